#!/usr/bin/env bash
# Runs the whole pipeline with two noshow binaries on the same raw files and compares
# what they publish, file by file: the lake's tables (rows, as Parquet bytes), the report
# tables, the model file and the feed. For refactors and speed work that must not change
# results. Run by hand, not in CI:
#
#   bench/same-outputs.sh OLD_BIN NEW_BIN                 # the committed sample
#   bench/same-outputs.sh OLD_BIN NEW_BIN 100000          # a generated 100 k history
#
# Exit 0 when everything compared is byte-identical; otherwise the differing files are
# listed (fields that name a run, such as times, versions of the binary and elapsed
# seconds, are left out of the JSON comparisons).
set -euo pipefail
old=$(realpath "$1"); new=$(realpath "$2"); size=${3:-}
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/noshow-same.XXXXXX")
trap 'rm -rf "$work"' EXIT
as_of=2026-11-16T00:00:00Z
export NOSHOW_PSEUDONYM_KEY=same-outputs-key-0123456789
if [ -n "$size" ]; then
  "$new" generate --out "$work/raw" --interviews "$size" --seed 1 --as-of "$as_of" --tz UTC --quiet
  raw="$work/raw"
else
  raw=$(realpath data/sample)
fi
for side in old new; do
  bin=${!side}
  # Each side runs in a folder of its own with no noshow.toml, so only the flags count.
  mkdir -p "$work/$side"
  (cd "$work/$side" && "$bin" run --raw "$raw" --lake lake --out out --model model --as-of "$as_of" --tz UTC --quiet)
done
status=0
compare() { # label, old file, new file
  if ! cmp -s "$2" "$3"; then echo "differs: $1"; status=1; fi
}
strip_json() { python3 - "$1" <<'EOF'
import json, sys
volatile = {"started_at", "elapsed_seconds", "noshow_version", "trained_at", "generated_at", "seconds", "finished_at", "created_at", "content_sha256"}
def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if k not in volatile}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v
print(json.dumps(clean(json.load(open(sys.argv[1]))), sort_keys=True, indent=1))
EOF
}
cd "$work"
n=0
while IFS= read -r f; do
  rel=${f#old/}
  case "$rel" in
    *.lock|*/raw-stamps.json|*/runs/*) continue ;;
  esac
  [ -e "new/$rel" ] || { echo "only in old: $rel"; status=1; continue; }
  case "$rel" in
    *.json) strip_json "old/$rel" > a.json; strip_json "new/$rel" > b.json
            cmp -s a.json b.json || { echo "differs: $rel"; status=1; } ;;
    *.html) ;; # the report names its run's time and version
    *) compare "$rel" "old/$rel" "new/$rel" ;;
  esac
  n=$((n + 1))
done < <(find old -type f | sort)
while IFS= read -r f; do
  rel=${f#new/}
  case "$rel" in *.lock|*/raw-stamps.json|*/runs/*) continue ;; esac
  [ -e "old/$rel" ] || { echo "only in new: $rel"; status=1; }
done < <(find new -type f | sort)
echo "compared $n files: $([ $status = 0 ] && echo 'all identical' || echo 'see above')"
exit $status
