#!/usr/bin/env bash
# A `fer` with the LibTorch backend that runs on another Linux x86-64 box (one without Rust),
# finding LibTorch there at run time:
#
#   scripts/build-relocatable.sh                  # against torch 2.9.0 (tch 0.22's)
#   TORCH=2.11.0 scripts/build-relocatable.sh     # against the box's torch
#   OUT=/tmp/fer TORCH=2.11.0 scripts/build-relocatable.sh
#
# Writes OUT (default dist/fer-libtorch-$TORCH/): `fer`, the launcher (scripts/fer-launcher.sh:
# FER_LIBTORCH, then the build's LibTorch, then torch/lib of the python3 on PATH), beside
# `fer-bin`, the stripped binary. Then checks fer-bin with readelf and ldd: every library it
# needs is LibTorch's or the C/C++ runtime's, none is missing; and runs it through the
# launcher on LibTorch. Copy the folder anywhere; run `OUT/fer ...` as `fer`.
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH=${TORCH:-2.9.0}
export TORCH
OUT=${OUT:-dist/fer-libtorch-$TORCH}

scripts/setup-tch.sh build --release --locked
if [ "$TORCH" = 2.9.0 ]; then
    target=${CARGO_TARGET_DIR:-target}
    venv=${VENV:-.venv-torch}
else
    target=${CARGO_TARGET_DIR:-target/torch-$TORCH}
    venv=${VENV:-.venv-torch-$TORCH}
fi
lib=$("$venv/bin/python" -c 'import importlib.util as u, os
print(os.path.realpath(os.path.join(list(u.find_spec("torch").submodule_search_locations)[0], "lib")))')

staging="$OUT.partial"
rm -rf "$staging"
mkdir -p "$staging"
strip -o "$staging/fer-bin" "$target/release/fer"
sed -e "s|@FER_TORCH_VERSION@|$TORCH|" -e "s|@FER_BAKED_LIBTORCH@|$lib|" \
    scripts/fer-launcher.sh > "$staging/fer"
chmod +x "$staging/fer" "$staging/fer-bin"

# Every library fer-bin names must be LibTorch's (found in its folder) or the C and C++
# runtime's, which every Linux box has.
system='^(libc|libm|libdl|librt|libpthread|libgcc_s|libstdc\+\+|ld-linux-x86-64)\.so'
bad=0
echo "fer-bin needs:"
for needed in $(readelf -d "$staging/fer-bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    if [ -e "$lib/$needed" ]; then
        echo "  $needed (LibTorch)"
    elif [[ $needed =~ $system ]]; then
        echo "  $needed (system)"
    else
        echo "  $needed: neither LibTorch's nor the C/C++ runtime's" >&2
        bad=1
    fi
done
readelf -d "$staging/fer-bin" | sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\]/  \1 \2 (the build'"'"'s LibTorch, tried second)/p'
missing=$(LD_LIBRARY_PATH="$lib" ldd "$staging/fer-bin" | grep 'not found' || true)
if [ -n "$missing" ]; then
    echo "ldd finds no:" >&2
    echo "$missing" >&2
    bad=1
fi
glibc=$(objdump -T "$staging/fer-bin" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
glibcxx=$(objdump -T "$staging/fer-bin" | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1)
echo "the box needs glibc >= ${glibc#GLIBC_} and libstdc++ with ${glibcxx:-no GLIBCXX symbols}"
[ "$bad" = 0 ] || { echo "fer-bin is not relocatable" >&2; exit 1; }

# It runs, through the launcher, on LibTorch: a tensor operation on LibTorch's CPU device.
FER_LIBTORCH="$lib" "$staging/fer" bench train --backend tch --preset tiny --images 20 \
    --batch-size 10 --which train > "$staging/.smoke" 2>&1 ||
    { cat "$staging/.smoke" >&2; echo "fer-bin does not run through the launcher" >&2; exit 1; }
rm "$staging/.smoke"

rm -rf "$OUT"
mv "$staging" "$OUT"
echo "$OUT: $(du -sh "$OUT" | cut -f1) (fer-bin $(du -h "$OUT/fer-bin" | cut -f1)), torch $TORCH"
