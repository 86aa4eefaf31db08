#!/bin/sh
# fer, relocatable LibTorch build: finds LibTorch, then runs the fer-bin beside this file.
#
# Where LibTorch is looked for, first usable wins:
#   1. $FER_LIBTORCH (a folder holding libtorch_cpu.so, e.g. .../site-packages/torch/lib)
#   2. the folder this fer was built against
#   3. torch/lib of the python3 on PATH (found without importing torch)
# A folder is usable when it holds libtorch_cpu.so, libtorch.so and libc10.so and, where
# its torch version can be read, that version is the one this fer was built against: another
# LibTorch would fail at load time with an unreadable undefined-symbol error.
#
# scripts/build-relocatable.sh fills in the two values below.
built_torch='@FER_TORCH_VERSION@'
baked='@FER_BAKED_LIBTORCH@'

me=$0
# Follow a symlink to this file (`ln -s .../fer ~/bin/fer`) back to the bundle.
while [ -L "$me" ]; do
    link=$(readlink "$me")
    case $link in /*) me=$link ;; *) me=$(dirname "$me")/$link ;; esac
done
bin=$(dirname "$me")/fer-bin

tried=''
note() { tried="$tried
  $1"; }

# The torch version of a LibTorch folder: pip's torch/version.py or the libtorch archive's
# build-version, without any +cuXXX suffix; empty when neither says.
torch_version() {
    version=''
    if [ -f "$1/../version.py" ]; then
        version=$(sed -n "s/^__version__ = ['\"]\([^'\"+]*\).*/\1/p" "$1/../version.py")
    elif [ -f "$1/../build-version" ]; then
        version=$(sed -n '1s/[+].*//p' "$1/../build-version")
    fi
    printf '%s' "$version"
}

# try WHERE DIR [WHY-EMPTY]: sets $found when DIR is usable, else notes why not.
try() {
    if [ -z "$2" ]; then
        note "$1: ${3:-not set}"
        return 1
    fi
    for lib in libtorch_cpu.so libtorch.so libc10.so; do
        if [ ! -f "$2/$lib" ]; then
            note "$1: $2 (no $lib there)"
            return 1
        fi
    done
    version=$(torch_version "$2")
    if [ -n "$version" ] && [ "$version" != "$built_torch" ]; then
        note "$1: $2 (torch $version; this fer needs $built_torch)"
        return 1
    fi
    found=$2
}

python_torch_lib() {
    command -v python3 >/dev/null 2>&1 || return 0
    python3 -c 'import importlib.util as u, os
s = u.find_spec("torch")
if s and s.submodule_search_locations:
    print(os.path.join(list(s.submodule_search_locations)[0], "lib"))' 2>/dev/null
}

found=''
python=$(command -v python3 || echo 'none on PATH')
try "FER_LIBTORCH" "${FER_LIBTORCH:-}" ||
    try "the build's LibTorch" "$baked" ||
    try "python3 ($python)" "$(python_torch_lib)" "no torch module"

if [ -z "$found" ]; then
    cat >&2 <<EOF
fer: no usable LibTorch $built_torch found. Tried:$tried
Fix: pip install torch==$built_torch (into the python3 on PATH), or point FER_LIBTORCH at
the torch/lib folder of torch $built_torch, or rebuild fer against this machine's torch
(TORCH=<version> scripts/build-relocatable.sh).
EOF
    exit 127
fi
if [ -n "${FER_LIBTORCH:-}" ] && [ "$found" != "$FER_LIBTORCH" ]; then
    echo "fer: warning: not using FER_LIBTORCH:$(echo "$tried" | sed -n 2p | sed 's/^  FER_LIBTORCH://'); using $found" >&2
fi
if [ ! -x "$bin" ]; then
    echo "fer: $bin is missing: keep fer and fer-bin side by side" >&2
    exit 127
fi
LD_LIBRARY_PATH="$found${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$bin" "$@"
