#!/usr/bin/env bash
# Fresh-machine setup for lathe (Debian 12, run as root). Idempotent: on a machine that already
# has everything it only checks, and `npm ci` reinstalls node_modules from package-lock.json.
#
#   sudo scripts/setup.sh            # system packages + npm ci
#   scripts/setup.sh --no-npm        # system packages only
#
# System packages:
#   libonnx-testdata     ONNX conformance data -> /usr/share/libonnx-testdata/data
#   python3-onnx         checker / shape inference for the fixtures
#   python3-torch        Debian's torch 1.13 (CPU), for fixtures/export.py and bench/make-torchvision.py
#   python3-torchvision  torchvision 0.14, for the benchmark's vit_b_16
# and, through scripts/setup-webgpu.sh, a software WebGPU adapter (Mesa 25 lavapipe unpacked into
# .cache/webgpu/) so the WGSL tests run kernels for real.
# Python scripts must run with Debian's /usr/bin/python3, not another python3 on the PATH.
set -euo pipefail

cd "$(dirname "$0")/.."

run_npm=1
for arg in "$@"; do
  case "$arg" in
    --no-npm) run_npm=0 ;;
    *) echo "setup.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

source scripts/apt-packages.sh
ensure_apt_packages libonnx-testdata python3-onnx python3-torch python3-torchvision
log "system packages present"

# Check what the packages are for, so a broken install fails here and not in a test.
[[ -d /usr/share/libonnx-testdata/data/node ]] \
  || die "/usr/share/libonnx-testdata/data/node missing after installing libonnx-testdata"
[[ -x /usr/bin/python3 ]] || die "/usr/bin/python3 missing"
/usr/bin/python3 -c 'import onnx, torch, torchvision' \
  || die "/usr/bin/python3 cannot import onnx, torch and torchvision"

if ((run_npm)); then
  command -v npm >/dev/null || die "npm not found (Node 20 or later is required)"
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
    || die "Node $(node --version) is too old; lathe needs Node 20 or later"
  log "npm ci"
  # onnxruntime-node's install script downloads CUDA files and fails without network; the CPU
  # build ships in the package itself.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error \
    || die "npm ci failed"
  node -e 'require("onnxruntime-node")' || die "onnxruntime-node does not load after npm ci"
fi

# After npm ci, so it can probe the adapter through node_modules/webgpu.
if ((run_npm)); then
  bash scripts/setup-webgpu.sh || die "scripts/setup-webgpu.sh failed"
else
  bash scripts/setup-webgpu.sh --no-probe || die "scripts/setup-webgpu.sh failed"
fi

log "done"
