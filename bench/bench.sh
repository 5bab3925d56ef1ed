#!/usr/bin/env bash
# Benchmark noshow against the tools an analyst would reach for (DuckDB, scikit-learn)
# on the same generated files. Run by hand, not in CI:
#   bench/bench.sh                 # 1 million interviews
#   bench/bench.sh 100000 1000000  # several sizes (10000000 needs ~30 GB of disk)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/noshow-target}"
python3 -m pip install --quiet --disable-pip-version-check duckdb pyarrow pandas scikit-learn
cargo build --release --quiet
exec python3 bench/bench.py --bin "$CARGO_TARGET_DIR/release/noshow" "$@"
