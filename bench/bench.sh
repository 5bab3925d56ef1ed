#!/usr/bin/env bash
# Benchmark noshow against the tools an analyst would reach for (DuckDB, scikit-learn)
# on the same generated files. Run by hand, not in CI:
#   bench/bench.sh                 # 1 million interviews
#   bench/bench.sh 100000 1000000  # several sizes
#   bench/bench.sh --gzip 10000000 # 10 M: gzip logs (4.2 GB) + lake + spill need ~20 GB
#                                  # of disk, ~25 min; peers run only up to 2 M (--peers-up-to)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/noshow-target}"
python3 -m pip install --quiet --disable-pip-version-check duckdb pyarrow pandas scikit-learn
cargo build --release --quiet
exec python3 bench/bench.py --bin "$CARGO_TARGET_DIR/release/noshow" "$@"
