#!/usr/bin/env bash
# Build fer with the LibTorch backend against a pip-installed torch (no LibTorch download).
#
#   scripts/setup-tch.sh                       # venv in .venv-torch, release build
#   scripts/setup-tch.sh test --locked --test tch   # any cargo command, with --features tch
#   VENV=/opt/torch scripts/setup-tch.sh
#
# torch 2.9.0 is the version tch 0.22 expects. PyPI's Linux wheel is the CUDA build
# (about 3.7 GB download, 6.7 GB installed); it also runs on machines without a GPU.
# The binary gets LibTorch's folder baked in (build.rs), so it runs without LD_LIBRARY_PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-torch}

if ! "$VENV/bin/python" -c 'import torch; assert torch.__version__.startswith("2.9.0")' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet torch==2.9.0
fi

# Without LIBTORCH_USE_PYTORCH the build tries to download LibTorch and fails with a DNS error.
export LIBTORCH_USE_PYTORCH=1
export PATH="$PWD/$VENV/bin:$PATH"
if [ $# -gt 0 ]; then
    exec cargo "$1" --features tch "${@:2}"
fi
cargo build --release --features tch
echo "built target/release/fer with the tch backend: try"
echo "  target/release/fer bench train --backend flex,tch"
