#!/usr/bin/env bash
#===- utils/demo.sh - set up, build, and show swaa on a bundled example ----===#
#
# Installs dependencies, builds, then runs the attn dialect and its reference
# lowering on utils/demo/visible-keys.mlir: full attention, a sliding window
# of 4, and a window of 4 with 2 sink tokens. The compiled code computes which
# keys each query sees, and the demo draws it. Then it compiles a bundled
# 4-layer Llama (test/models/hf/llama4-torchscript-cache.onnx) twice, with
# full attention and with a SWAA recipe, runs both on the same prompt with
# swaa-run, and prints the two timings, the KV-cache sizes and whether the
# generated tokens agree, after the recipe's predicted cost (--report).
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
recipe=(--window 256 --sinks 4 --fa-layers odd)
prompt=2048
new=32
work=$(mktemp -d)
trap 'rm -rf "$work" "$out"' EXIT
echo
echo "== A 4-layer Llama (hidden 256, head_dim 64) with full attention and with a"
echo "   SWAA recipe (${recipe[*]}): what the recipe should cost"
echo "   (swaa-compile $(basename "$model") ${recipe[*]} --report --context $((prompt + new))):"
echo
"$build/bin/swaa-compile" "$model" "${recipe[@]}" --report --context $((prompt + new)) |
  sed 's/^/   /'
echo
echo "== Compiled for this CPU and run by swaa-run on the same $prompt-token prompt,"
echo "   then $new greedy tokens:"
"$build/bin/swaa-compile" "$model" -o "$work/full.swaa"
"$build/bin/swaa-compile" "$model" "${recipe[@]}" -o "$work/swaa.swaa"
for name in full swaa; do
  echo
  echo "   -- $name:"
  "$build/bin/swaa-run" "$work/$name.swaa" --random-prompt $prompt --seed 1 \
    --max-new-tokens $new | tee "$work/$name.txt" | sed 's/^/   /'
done
"${PYTHON:-python3}" - "$work/full.txt" "$work/swaa.txt" <<'PY'
import re, sys
def read(path):
    text = open(path).read()
    tokens = re.search(r"generated: (.*)", text).group(1).split(",")
    prefill = float(re.search(r"prefill: \d+ tokens in ([0-9.]+) s", text).group(1))
    return tokens, prefill
full, swaa = read(sys.argv[1]), read(sys.argv[2])
same = sum(a == b for a, b in zip(full[0], swaa[0]))
print()
print(f"   prefill: full attention {full[1]:.3f} s, SWAA recipe {swaa[1]:.3f} s "
      f"({full[1] / swaa[1]:.2f}x)")
print(f"   generated tokens: {same} of {len(full[0])} agree "
      f"({'all agree' if same == len(full[0]) else 'the recipe changes the output'}; "
      "the weights are random, so this shows the mechanics, not quality)")
PY
