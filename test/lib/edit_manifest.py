#!/usr/bin/env python3
"""Edits an artifact's manifest.json the way a corrupt or hostile file would,
for the runtime's tests (test/Runtime/manifest-vs-code.test).

  edit_manifest.py ARTIFACT drop-arg ENTRY INDEX
  edit_manifest.py ARTIFACT cache-heads ENTRY HEADS   (every cache of ENTRY)
  edit_manifest.py ARTIFACT weight-dtype ENTRY DTYPE  (the first weight)
  edit_manifest.py ARTIFACT symbol ENTRY NAME
  edit_manifest.py ARTIFACT drop-entry ENTRY
"""

import json
import os
import sys


def main():
    artifact, what, entry = sys.argv[1], sys.argv[2], sys.argv[3]
    path = os.path.join(artifact, "manifest.json")
    with open(path) as f:
        manifest = json.load(f)
    e = manifest["entries"][entry]
    if what == "drop-arg":
        del e["args"][int(sys.argv[4])]
    elif what == "cache-heads":
        for a in e["args"]:
            if a["kind"] == "cache":
                a["shape"][1] = int(sys.argv[4])
    elif what == "weight-dtype":
        next(a for a in e["args"] if a["kind"] == "weight")["dtype"] = \
            sys.argv[4]
    elif what == "symbol":
        e["symbol"] = sys.argv[4]
    elif what == "drop-entry":
        del manifest["entries"][entry]
    else:
        sys.exit(f"edit_manifest.py: unknown edit '{what}'")
    with open(path, "w") as f:
        json.dump(manifest, f, indent=2)


if __name__ == "__main__":
    main()
