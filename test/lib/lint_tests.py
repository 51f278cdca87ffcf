#!/usr/bin/env python3
"""Finds lit test lines that would silently never run or never check.

A `// RUN` or `// CHECK` line without its colon is plain comment text to lit
and FileCheck, so the test passes without testing anything. This script
reports such lines, and test files without any RUN line, under the given
directory (skipping Inputs/ and lib/). Exits 1 when it finds one.
"""

import os
import re
import sys

SUFFIXES = (".mlir", ".test", ".onnxtext")
COMMENT = r"^\s*(?://|;|#)\s*"
# A directive: a prefix, optional suffixes (-NEXT, -SAME, -COUNT-3, ...), and
# what follows it, which must be ':'.
DIRECTIVE = re.compile(COMMENT + r"([A-Z][A-Z0-9_]*)((?:-[A-Z0-9]+)*)(.?)")


def lint(path):
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    text = "".join(lines)
    prefixes = {"RUN", "CHECK"}
    for group in re.findall(r"--check-prefix(?:es)?[= ]([A-Za-z0-9_,-]+)", text):
        prefixes.update(group.split(","))
    problems = []
    if not any(re.match(COMMENT + "RUN:", line) for line in lines):
        problems.append(f"{path}: no RUN line")
    for number, line in enumerate(lines, 1):
        match = DIRECTIVE.match(line)
        if match and match.group(1) in prefixes and match.group(3) != ":":
            directive = match.group(1) + match.group(2)
            problems.append(f"{path}:{number}: '{directive}' without ':' never runs")
    return problems


def main():
    root = sys.argv[1]
    problems, count = [], 0
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d not in ("Inputs", "lib", "Output")]
        for name in sorted(files):
            if name.endswith(SUFFIXES):
                count += 1
                problems += lint(os.path.join(directory, name))
    for problem in problems:
        print(problem)
    print(f"lint: {count} test files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
