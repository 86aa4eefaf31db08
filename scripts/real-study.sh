#!/usr/bin/env bash
# The study on the real FER2013, scaled to a budget: trains a recipe for a few epochs,
# evaluates on PublicTest and writes the report; optionally the study's own stack (TF 2.21 +
# NSL 1.4, ../shared/peers/seed_nsl_train.py) on the same data beside it.
#
#   scripts/real-study.sh                                   # report-5.2, 2 epochs, tch
#   EPOCHS=1 BACKEND=flex scripts/real-study.sh
#   PRESET=report-4.2 PEERS=../shared/peers TF_PYTHON=.venv-tf/bin/python scripts/real-study.sh
#
# Settings (environment): DATA (../shared/data/fer2013/fer2013-dev.csv.gz), RECIPE
# (report-5.2), PRESET (the recipe's network unless set; report-4.2 is the peer's network),
# EPOCHS (2), MAX_MINUTES (none), BACKEND (tch, built by scripts/setup-tch.sh; flex needs
# nothing), NAME (real-RECIPE-BACKEND), PEERS and TF_PYTHON (run the TF-NSL trainer too).
# The run goes to runs/NAME, the report to runs/NAME-report/, the peer's log to
# runs/NAME-peer.log. A real-data benchmark, not a test: CI has no FER2013.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/fer2013/fer2013-dev.csv.gz}
RECIPE=${RECIPE:-report-5.2}
EPOCHS=${EPOCHS:-2}
BACKEND=${BACKEND:-tch}
NAME=${NAME:-real-$RECIPE-$BACKEND}
[ -f "$DATA" ] || { echo "no FER2013 CSV at $DATA (set DATA)" >&2; exit 1; }

if [ "$BACKEND" = tch ]; then
    scripts/setup-tch.sh
else
    cargo build --release
fi
fer=target/release/fer

if [ -n "${PEERS:-}" ]; then
    "${TF_PYTHON:?set TF_PYTHON to the python of the TF + NSL venv (see README)}" \
        "$PEERS/seed_nsl_train.py" "$PEERS" "$DATA" "$EPOCHS" > "runs/$NAME-peer.log" 2>&1 &
    peer=$!
fi

args=(train --recipe "$RECIPE" --data "$DATA" --epochs "$EPOCHS" --backend "$BACKEND" --name "$NAME")
[ -n "${PRESET:-}" ] && args+=(--preset "$PRESET")
[ -n "${MAX_MINUTES:-}" ] && args+=(--max-minutes "$MAX_MINUTES")
rm -rf "runs/$NAME" "runs/$NAME-report" "runs/$NAME-train.log"
start=$(date +%s)
"$fer" "${args[@]}" 2>&1 | tee "runs/$NAME-train.log"
echo "training: $(( $(date +%s) - start )) s"

"$fer" report "runs/$NAME" --out "runs/$NAME-report" --backend "$BACKEND" --attack-faces 300
echo
echo "accuracy after each epoch (runs/$NAME/history.csv):"
faces=$(sed -n 's/^training on \([0-9]*\) faces.*/\1/p' "runs/$NAME-train.log")
python3 - "runs/$NAME/history.csv" "$faces" <<'PY'
import csv, sys
faces = int(sys.argv[2])
for r in csv.DictReader(open(sys.argv[1])):
    seconds = float(r['seconds'])
    print(f"epoch {r['epoch']}: train acc {float(r['categorical_accuracy']):.4f}, "
          f"validation (PublicTest) acc {float(r['val_categorical_accuracy']):.4f}, "
          f"{seconds:.0f} s, {faces / seconds:.0f} training images/s (epoch time, validation included)")
PY
if [ -n "${peer:-}" ]; then
    wait "$peer"
    echo; echo "the study's stack (TF + NSL), same data:"; grep '^epoch' "runs/$NAME-peer.log"
fi
