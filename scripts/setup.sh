#!/usr/bin/env bash
#===- scripts/setup.sh - install swaa's build and test dependencies -------===#
#
# Idempotent: installs what is missing on a Debian 12 (bookworm) machine and
# does nothing for what is already there. Needs root (or sudo) for apt.
#   apt:  LLVM/MLIR 22, lit/FileCheck, libomp, Ninja, ccache, ONNX C++, protobuf
#   pip:  numpy (reference computations in tests), onnx/onnxruntime (fixtures)
#
#===----------------------------------------------------------------------===#
set -euo pipefail

APT_PACKAGES=(
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools libomp-22-dev
  ninja-build ccache cmake g++ libonnx-dev libprotobuf-dev protobuf-compiler
)
PIP_PACKAGES=(numpy onnx onnxruntime)

log() { printf 'setup: %s\n' "$*"; }

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
    log "not root and no sudo: install these by hand: ${APT_PACKAGES[*]}"
  fi
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt: all ${#APT_PACKAGES[@]} packages present"
fi

PYTHON=${PYTHON:-python3}
pip_missing=()
for p in "${PIP_PACKAGES[@]}"; do
  "$PYTHON" -c "import $p" >/dev/null 2>&1 || pip_missing+=("$p")
done
if [ ${#pip_missing[@]} -gt 0 ]; then
  log "pip: installing ${pip_missing[*]}"
  "$PYTHON" -m pip install -q "${pip_missing[@]}"
else
  log "pip: ${PIP_PACKAGES[*]} present"
fi
log "done"
