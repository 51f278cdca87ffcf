#!/usr/bin/env bash
#===- utils/demo.sh - set up, build, and show swaa on a bundled example ----===#
#
# Installs dependencies, builds, then runs the attn dialect and its reference
# lowering on utils/demo/visible-keys.mlir: full attention, a sliding window
# of 4, and a window of 4 with 2 sink tokens. The compiled code computes which
# keys each query sees, and the demo draws it. Then it applies the SWAA
# paper's quality-first recipe to a bundled 4-layer Llama and prints what it
# costs against full attention (swaa-compile --report). Running compiled
# models end to end comes with the CPU back end.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
example=$root/utils/demo/visible-keys.mlir
llvm_bin=/usr/lib/llvm-22/bin
llvm_lib=/usr/lib/llvm-22/lib

"$root/utils/setup.sh"
"$root/utils/build.sh" >/dev/null
echo "demo: built swaa-opt in $build/bin"

echo
echo "== The attention ops of $(basename "$example"), as swaa-opt prints them:"
echo
"$build/bin/swaa-opt" "$example" | grep -o 'attn.attention layer .* scale [^ ]*'

echo
echo "== Lowered by swaa-opt --swaa-reference-cpu, run by mlir-runner:"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$build/bin/swaa-opt" "$example" --swaa-reference-cpu |
  "$llvm_bin/mlir-runner" -e main -entry-point-result=void \
    -shared-libs="$llvm_lib/libmlir_runner_utils.so,$llvm_lib/libmlir_c_runner_utils.so" >"$out"

"${PYTHON:-python3}" - "$out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
titles = ["full attention (causal)", "sliding window 4", "sliding window 4 + 2 sink tokens"]
blocks = re.split(r"Unranked Memref[^\n]*\n", text)[1:]
grids = []
for block in blocks:
    rows = [[float(x) for x in re.findall(r"[-+]?[0-9.]+(?:e[-+]?\d+)?", line)]
            for line in block.strip().splitlines() if line.strip()]
    grids.append(rows)
n = len(grids[0])
print("   query i sees key j: '#' visible, '.' hidden (rows: queries 0..%d)" % (n - 1))
print("   " + "   ".join(t[:n].ljust(n) for t in ["full", "window 4", "w 4, 2 sinks"]))
for i in range(n):
    print("   " + "   ".join("".join("#" if g[i][j] > 0 else "." for j in range(n)) for g in grids))
visible = [sum(1 for row in g for x in row if x > 0) for g in grids]
print()
for t, v in zip(titles, visible):
    print(f"   {t}: {v} visible (query, key) pairs of {n * n}")
PY

model=$root/test/models/hf/llama4-torchscript-cache.onnx
echo
echo "== What the SWAA paper's quality-first recipe costs on a bundled 4-layer Llama"
echo "   (swaa-compile $(basename "$model") --preset interleave-1/2+fa-decode --window 512 --report --context 16384):"
echo
"$build/bin/swaa-compile" "$model" --preset interleave-1/2+fa-decode --window 512 \
  --report --context 16384 | sed 's/^/   /'
