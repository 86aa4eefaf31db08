#!/usr/bin/env bash
# The study's recipe on a GPU box, from a relocatable fer (scripts/build-relocatable.sh) and a
# pack of the faces (fer data pack): trains, evaluates, writes the report and curves, times
# fer and (optionally) PyTorch eager on the same device, and leaves a small archive of the run
# to bring back. Needs bash and tar on the box, no Rust.
#
#   scripts/device-train.sh                                        # the GPU run, defaults below
#   DEVICE=cpu EPOCHS=1 DATA=slice.ferpack scripts/device-train.sh # a dry run on the CPU
#
# Settings (environment):
#   FER          the fer to run (dist/fer-libtorch-2.11.0/fer)
#   DATA         the faces (data/fer2013.ferpack); its PublicTest rows validate
#   DEVICE       cuda:0
#   RECIPE       report-5.2 (batch 50, Adam 0.001, NSL multiplier 0.3, step 0.12)
#   EPOCHS       30;  MAX_MINUTES: a wall-clock budget for training (none)
#   NAME         device-$RECIPE;  RUNS: the run folder's parent (runs)
#   BENCH_IMAGES images per timed pass of `fer bench` and the PyTorch peer (2000; 0: no timing)
#   PEER_PYTHON  a python with torch: PyTorch eager's speed too (benches/torch_peer.py)
#   ARCHIVE      where the archive goes ($RUNS/$NAME.tar.gz: the run without its checkpoints
#                and this script's log, at most 16 MiB)
set -euo pipefail
cd "$(dirname "$0")/.."
FER=${FER:-dist/fer-libtorch-2.11.0/fer}
DATA=${DATA:-data/fer2013.ferpack}
DEVICE=${DEVICE:-cuda:0}
RECIPE=${RECIPE:-report-5.2}
EPOCHS=${EPOCHS:-30}
NAME=${NAME:-device-$RECIPE}
RUNS=${RUNS:-runs}
BENCH_IMAGES=${BENCH_IMAGES:-2000}
ARCHIVE=${ARCHIVE:-$RUNS/$NAME.tar.gz}
run="$RUNS/$NAME"
compute=(--backend tch --device "$DEVICE")

[ -x "$FER" ] || { echo "no fer at $FER (scripts/build-relocatable.sh makes one; set FER)" >&2; exit 1; }
[ -f "$DATA" ] || { echo "no data at $DATA (fer data pack FER2013.csv.gz OUT.ferpack; set DATA)" >&2; exit 1; }
rm -rf "$run" "$run-device.log" "$ARCHIVE"
mkdir -p "$RUNS"
# Everything printed also lands in NAME-device.log, which the archive carries.
exec > >(tee "$run-device.log") 2>&1

seconds() { date +%s%N; }
echo "== $(date -u +%FT%TZ) on $(hostname), $(nproc) cores"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi
"$FER" --version

echo "== train: recipe $RECIPE, $EPOCHS epochs on $DEVICE"
budget=()
[ -n "${MAX_MINUTES:-}" ] && budget=(--max-minutes "$MAX_MINUTES")
start=$(seconds)
"$FER" train --recipe "$RECIPE" --data "$DATA" --epochs "$EPOCHS" "${compute[@]}" \
    --run-dir "$RUNS" --name "$NAME" "${budget[@]}"
train_ns=$(( $(seconds) - start ))

echo "== evaluate"
"$FER" eval --checkpoint "$run" --data "$DATA" "${compute[@]}" | tee "$run/eval.txt"
"$FER" report "$run" --data "$DATA" --out "$run/report" "${compute[@]}"

preset=$(sed -n '1s/.*"model":"\([^"]*\)".*/\1/p' "$run/events.jsonl")
if [ "$BENCH_IMAGES" -gt 0 ]; then
    echo "== speed: fer's steps on $DEVICE ($preset, batch 50)"
    "$FER" bench train --preset "$preset" --batch-size 50 --images "$BENCH_IMAGES" \
        --which train,adv,predict "${compute[@]}" --json "$run/bench-fer.json"
    if [ -n "${PEER_PYTHON:-}" ]; then
        echo "== speed: PyTorch eager on $DEVICE, same network and step"
        "$PEER_PYTHON" benches/torch_peer.py --network "$preset" --device "$DEVICE" \
            --batch-size 50 --images "$BENCH_IMAGES" --json "$run/bench-torch.json"
    fi
fi

echo "== per epoch"
# Training images per epoch: the last step event of epoch 1 counts them.
faces=$(grep '"kind":"step","epoch":1,' "$run/events.jsonl" | tail -1 |
    sed -n 's/.*"images":\([0-9]*\).*/\1/p')
awk -F, -v faces="${faces:-0}" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
        s = $col["seconds"]
        printf "epoch %s: train acc %.4f, validation acc %.4f, %.1f s, %.0f training images/s\n",
            $col["epoch"], $col["categorical_accuracy"], $col["val_categorical_accuracy"], s,
            (s > 0 ? faces / s : 0)
    }' "$run/history.csv"
echo "fer train, start to exit: $((train_ns / 1000000)) ms for ${faces:-?} training faces per epoch"

# The checkpoints stay on the box: weights are not needed to read the run.
tar -czf "$ARCHIVE" --exclude="$NAME/checkpoints" -C "$RUNS" "$NAME" "$NAME-device.log"
size=$(stat -c %s "$ARCHIVE")
if [ "$size" -gt $((16 * 1024 * 1024)) ]; then
    echo "$ARCHIVE is $size bytes, over 16 MiB" >&2
    exit 1
fi
echo "== $ARCHIVE: $size bytes"
