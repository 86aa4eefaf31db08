#!/usr/bin/env bash
# Build fer with the LibTorch backend against a pip-installed torch (no LibTorch download).
#
#   scripts/setup-tch.sh                              # venv in .venv-torch, release build
#   scripts/setup-tch.sh test --locked --test tch     # any cargo command, with --features tch
#   scripts/setup-tch.sh venv                         # only the venv with torch
#   TORCH=2.11.0 scripts/setup-tch.sh                 # another torch (see below)
#   VENV=/opt/torch scripts/setup-tch.sh
#
# torch 2.9.0 is the version tch 0.22 expects. PyPI's Linux wheel is the CUDA build
# (about 3.7 GB download, 6.7 GB installed); it also runs on machines without a GPU.
# Another TORCH sets LIBTORCH_BYPASS_VERSION_CHECK (tch's generated C++ is then compiled
# against that torch's headers) and builds into target/torch-$TORCH so the two builds do not
# rebuild each other. The binary gets LibTorch's folder baked in (build.rs), so it runs without
# LD_LIBRARY_PATH; scripts/build-relocatable.sh makes one that finds LibTorch elsewhere too.
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH=${TORCH:-2.9.0}
if [ "$TORCH" = 2.9.0 ]; then
    VENV=${VENV:-.venv-torch}
else
    VENV=${VENV:-.venv-torch-$TORCH}
    export LIBTORCH_BYPASS_VERSION_CHECK=1
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/torch-$TORCH}
fi

if ! "$VENV/bin/python" -c "import torch; assert torch.__version__.split('+')[0] == '$TORCH'" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "torch==$TORCH"
fi

[ "${1:-}" = venv ] && exit 0

# Without LIBTORCH_USE_PYTORCH the build tries to download LibTorch and fails with a DNS error.
export LIBTORCH_USE_PYTORCH=1
export PATH="$PWD/$VENV/bin:$PATH"
if [ $# -gt 0 ]; then
    exec cargo "$1" --features tch "${@:2}"
fi
cargo build --release --features tch
echo "built ${CARGO_TARGET_DIR:-target}/release/fer with the tch backend (torch $TORCH): try"
echo "  ${CARGO_TARGET_DIR:-target}/release/fer bench train --backend flex,tch"
