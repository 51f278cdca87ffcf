#!/usr/bin/env bash
#===- utils/build.sh - configure and build swaa ---------------------------===#
#
# Configures build/ (once) against LLVM/MLIR 22 and builds every target.
# Environment: BUILD_DIR (default build), CMAKE_BUILD_TYPE (default Release),
# SWAA_WERROR (ON in CI: warnings in our code fail the build).
#
#===----------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
werror=${SWAA_WERROR:-OFF}
if [ "${CI:-}" = true ]; then werror=ON; fi

if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DPython3_EXECUTABLE="$(command -v "${PYTHON:-python3}")" \
    -DSWAA_WERROR="$werror"
fi
ninja -C "$build"
