#!/usr/bin/env bash
# Loading FER2013: fer against the study's pandas code, same file, same run, fresh processes.
#
#   benches/load.sh [FILE.csv.gz]        (default: ../shared/data/fer2013/fer2013-dev.csv.gz)
#
# Needs a release build (cargo build --release) and, for the pandas baseline, a python with
# pandas and numpy: PYTHON=/path/to/venv/bin/python (skipped when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
GZ=${1:-../shared/data/fer2013/fer2013-dev.csv.gz}
PYTHON=${PYTHON:-python3}
FER=target/release/fer
PLAIN=$(mktemp --suffix=.csv)
trap 'rm -f "$PLAIN"' EXIT
gzip -dc "$GZ" > "$PLAIN"

# Runs a command once; prints wall seconds and peak RSS (MiB).
measure() {
    /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -n 1 | awk '{printf "%.2f s, %.0f MiB\n", $1, $2/1024}'
}

echo "file: $GZ ($(du -h "$GZ" | cut -f1) gzip, $(du -h "$PLAIN" | cut -f1) plain)"
for run in 1 2 3; do
    echo "fer plain   #$run: $(measure "$FER" bench load "$PLAIN")"
    echo "fer gzip    #$run: $(measure "$FER" bench load "$GZ")"
done
if "$PYTHON" -c 'import pandas, numpy' 2>/dev/null; then
    # The study's code: pd.read_csv, then np.array(x.split(' ')) per row, reshaped to float32.
    echo "pandas plain #1: $(measure "$PYTHON" -c "
import sys, numpy as np, pandas as pd
df = pd.read_csv(sys.argv[1])
X = np.stack(df.pixels.apply(lambda x: np.array(x.split(' ')).reshape(48, 48, 1).astype('float32')), axis=0)
y = pd.get_dummies(df['emotion']).to_numpy(dtype='float32')
" "$PLAIN")"
else
    echo "pandas: skipped ($PYTHON has no pandas; set PYTHON=venv/bin/python)"
fi
