#!/usr/bin/env bash
#===- utils/setup.sh - install swaa's build and test dependencies ---------===#
#
# Idempotent: installs what is missing on a Debian 12 (bookworm) machine and
# does nothing for what is already there. Needs root (or sudo) for apt.
#   apt:  LLVM/MLIR 22, lit/FileCheck, libomp, Ninja, ccache, ONNX C++, protobuf
#   pip:  numpy (the independent references of the tests), onnx, onnxruntime,
#         matplotlib (the plots of bench/run)
#
#===----------------------------------------------------------------------===#
set -euo pipefail

APT_PACKAGES=(
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools libomp-22-dev
  ninja-build ccache cmake g++ libonnx-dev libprotobuf-dev protobuf-compiler
)
PIP_PACKAGES=(numpy onnx onnxruntime matplotlib)
PYTHON=${PYTHON:-python3}

log() { printf 'setup: %s\n' "$*"; }

sudo_cmd=()
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then
  sudo_cmd=(sudo)
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] && [ ${#sudo_cmd[@]} -eq 0 ]; then
    log "error: missing Debian packages and no root or sudo to install them: ${missing[*]}" >&2
    exit 1
  fi
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt: all ${#APT_PACKAGES[@]} packages present"
fi

pip_missing=()
for p in "${PIP_PACKAGES[@]}"; do
  "$PYTHON" -c "import $p" >/dev/null 2>&1 || pip_missing+=("$p")
done
if [ ${#pip_missing[@]} -gt 0 ]; then
  log "pip: installing ${pip_missing[*]} for $PYTHON"
  "$PYTHON" -m pip install -q --disable-pip-version-check "${pip_missing[@]}"
else
  log "pip: ${PIP_PACKAGES[*]} present for $PYTHON"
fi
