#!/usr/bin/env bash
# Executes every notebook headlessly with the evcxr kernel and checks the results.
#
#   notebooks/run-all.sh [OUTDIR]     (default: $TMPDIR/fer-notebooks)
#
# OUTDIR gets the executed notebooks and evcxr's build folders; it must be outside the
# repository, or cargo takes evcxr's crates for strays of this workspace.
#
# Needs evcxr_jupyter on PATH and a python with nbconvert (JUPYTER_VENV, default
# .venv-jupyter); see README.md "Notebooks". Fails when any cell fails or panics, or a
# notebook shows fewer pictures than it should.
set -euo pipefail
# Paths given by the caller are relative to where it runs; defaults to the repository root.
HERE=$(dirname "$0")
OUT=$(realpath -m "${1:-${TMPDIR:-/tmp}/fer-notebooks}")
case "$OUT/" in
    "$(realpath "$HERE/..")"/*) echo "run-all.sh: $OUT is inside the repository; pick a folder outside it" >&2; exit 2 ;;
esac
VENV=$(realpath -m "${JUPYTER_VENV:-$HERE/../.venv-jupyter}")
cd "$HERE"
mkdir -p "$OUT/config"
# A shared compiled-crate cache; a panic kills the kernel so nbconvert notices.
printf ':cache 4000\n:preserve_vars_on_panic 0\n' > "$OUT/config/init.evcxr"
export EVCXR_CONFIG_DIR="$OUT/config"
# evcxr loads each cell from an incrementally built library: with CARGO_INCREMENTAL=0 every
# cell after the first fails with "dlsym failed".
unset CARGO_INCREMENTAL
export JUPYTER_PATH="$VENV/share/jupyter"
evcxr_jupyter --install >/dev/null

status=0
# notebook:minimum inline pictures:minimum HTML tables
for entry in 01-data:2:1 02-model:0:3 03-adversarial-training:1:0 04-evaluation:2:1 05-three-emotions:1:2 06-graph-regularization:2:0; do
    IFS=: read -r name pictures tables <<< "$entry"
    export EVCXR_TMPDIR="$OUT/build-$name"
    mkdir -p "$EVCXR_TMPDIR"
    start=$(date +%s)
    "$VENV/bin/jupyter" nbconvert --to notebook --execute --allow-errors \
        --ExecutePreprocessor.kernel_name=rust --ExecutePreprocessor.timeout=-1 \
        --output-dir "$OUT" "$name.ipynb" || status=1
    echo "$name: $(( $(date +%s) - start )) s"
    "$VENV/bin/python" check.py "$OUT/$name.ipynb" "$pictures" "$tables" || status=1
    # Compiled crates live on in the :cache; the build folder is only disk now.
    rm -rf "$EVCXR_TMPDIR"
done
exit $status
