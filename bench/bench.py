"""Time each noshow stage against its peer on the same files, and check they agree.

Peers: DuckDB for ingest (CSV/JSON lines -> deduplicated Parquet) and for the rate
tables; scikit-learn's LogisticRegression(lbfgs) for training, on the design matrix
noshow exports. Each command runs in its own process under /usr/bin/time -v, so wall
time and peak memory are measured the same way for both sides. Prints one table per
size; ratio = noshow / peer (below 1.0: noshow is faster).
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import textwrap

AS_OF = "2026-11-16T00:00:00Z"


NEUTRAL_CWD = None


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns (wall s, peak MiB, stdout, CPU s)."""
    full = ["/usr/bin/time", "-v"] + cmd
    # In a folder of its own: noshow reads noshow.toml of the working folder, and the
    # figures are of the defaults, not of whatever config sits where bench.py is run.
    p = subprocess.run(full, capture_output=True, text=True, env=env, cwd=NEUTRAL_CWD)
    if p.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{p.stderr[-4000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", p.stderr)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", p.stderr).group(1)) for k in ("User", "System"))
    return seconds, rss, p.stdout, cpu


def py(code):
    return [sys.executable, "-c", textwrap.dedent(code)]


DUCK_INGEST = """
import duckdb, sys
raw, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
# Naive timestamps are UTC, as noshow is run here with --tz UTC.
con.execute("SET TimeZone='UTC'")
# The same output as the lake: deduplicated rows with typed columns (timestamps as
# TIMESTAMPTZ, booleans, numbers), zstd Parquet. No per-row validation, no set-aside
# table and no row accounting: a bad value silently becomes NULL. (normalize_names
# lower-cases the headers, whose case varies between exports, and renames `role`, `source` and `cost`,
# reserved words, to `_role`, `_source`, `_cost`.)
con.execute(f'''COPY (
  SELECT trim(interview_id) AS interview_id, candidate_id, _role AS role, region, education,
         TRY_CAST(fresh_graduate AS BOOLEAN) AS fresh_graduate, _source AS source, preferred_channel,
         TRY_CAST(invited_at AS TIMESTAMPTZ) AS invited_at, TRY_CAST(scheduled_at AS TIMESTAMPTZ) AS scheduled_at,
         status, cause, no_show_grade, TRY_CAST(_cost AS DOUBLE) AS cost, TRY_CAST(updated_at AS TIMESTAMPTZ) AS updated_at
  FROM read_csv('{raw}/**/interviews*.csv*', header=true, all_varchar=true, union_by_name=true, normalize_names=true)
  QUALIFY row_number() OVER (PARTITION BY trim(interview_id)
          ORDER BY TRY_CAST(updated_at AS TIMESTAMPTZ) DESC NULLS LAST) = 1
) TO '{out}/interviews.parquet' (FORMAT parquet, COMPRESSION zstd)''')
con.execute(f'''COPY (
  SELECT DISTINCT ON (event_id) event_id, interview_id, TRY_CAST(ts AS TIMESTAMPTZ) AS ts, type, channel, detail
  FROM read_json('{raw}/**/events*.jsonl*', format='newline_delimited',
     columns={{'event_id':'VARCHAR','interview_id':'VARCHAR','ts':'VARCHAR','type':'VARCHAR','channel':'VARCHAR','detail':'VARCHAR'}})
) TO '{out}/events.parquet' (FORMAT parquet, COMPRESSION zstd)''')
i = con.execute(f"select count(*) from '{out}/interviews.parquet'").fetchone()[0]
e = con.execute(f"select count(*) from '{out}/events.parquet'").fetchone()[0]
lost = con.execute(f'''select (select count(*) - count(invited_at) + count(*) - count(scheduled_at)
                               from '{out}/interviews.parquet')
                            + (select count(*) - count(ts) from '{out}/events.parquet')''').fetchone()[0]
print(f'{i} {e} {lost}')
"""

DUCK_RATES = """
import duckdb, sys, json
lake, as_of = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
con.execute("SET TimeZone='UTC'")
con.execute(f'''CREATE TEMP TABLE closed AS
WITH j AS (SELECT DISTINCT interview_id FROM read_parquet('{lake}/events/**/*.parquet')
           WHERE type = 'joined' AND ts <= TIMESTAMPTZ '{as_of}'),
i AS (SELECT i.*, j.interview_id IS NOT NULL AS joined FROM read_parquet('{lake}/interviews/**/*.parquet', hive_partitioning=false) i
      LEFT JOIN j USING (interview_id))
SELECT *, CASE WHEN status = 'scheduled' AND scheduled_at < TIMESTAMPTZ '{as_of}' - INTERVAL 15 MINUTE
               THEN CASE WHEN joined THEN 'attended' ELSE 'no_show' END ELSE status END AS final
FROM i''')
out = {}
for d in ['role', 'region', 'education', 'fresh_graduate', 'source', 'preferred_channel']:
    rows = con.execute(f'''SELECT {d}::VARCHAR, count(*), sum((final='no_show')::INT), sum((final='cancelled_by_candidate')::INT)
        FROM closed WHERE final <> 'scheduled' AND scheduled_at < TIMESTAMPTZ '{as_of}' GROUP BY 1''').fetchall()
    out[d] = {str(k): [n, ns, cc] for k, n, ns, cc in rows}
print(json.dumps(out))
"""

SKLEARN_FIT = """
import sys, time, json
import pyarrow.parquet as pq
import numpy as np
from sklearn.linear_model import LogisticRegression
design, l2 = sys.argv[1], float(sys.argv[2])
t = pq.read_table(design)
y = t.column('y').to_numpy()
names = [c for c in t.column_names if c != 'y']
X = np.column_stack([t.column(c).to_numpy().astype(float) for c in names])
m = LogisticRegression(C=1.0 / l2, solver='lbfgs', max_iter=1000, tol=1e-8).fit(X, y)
print(json.dumps({'intercept': float(m.intercept_[0]), 'coef': dict(zip(names, map(float, m.coef_[0])))}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", default="bench-work")
    ap.add_argument("--raw", help="reuse raw logs already generated (with --seed 1 --as-of %s) instead of generating" % AS_OF)
    ap.add_argument("--gzip", action="store_true", help="generate gzip-compressed logs (a 10 M run needs it to fit ~30 GB of disk)")
    ap.add_argument("--peers-up-to", type=int, default=2_000_000,
                    help="run the peers only up to this many interviews (scikit-learn's design matrix at 10 M is ~10 GB)")
    ap.add_argument("--loop-days", type=int, default=0,
                    help="also time the closed loop: N daily scores appending to the feed archive (each with its drift "
                         "sidecar), the outcomes of those feeds ingested, and the report with and without the "
                         "monitoring tables (help_effect, model_monitoring, drift); 0 = skip")
    ap.add_argument("sizes", nargs="*", type=int, default=[1_000_000])
    args = ap.parse_args()
    global NEUTRAL_CWD
    args.work = os.path.abspath(args.work)
    args.bin = os.path.abspath(args.bin)
    if args.raw:
        args.raw = os.path.abspath(args.raw)
    os.makedirs(args.work, exist_ok=True)
    NEUTRAL_CWD = args.work
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, {platform.platform()}")
    print(f"cpu: {cpu_model()}; load average before: {os.getloadavg()[0]:.2f}")
    for n in args.sizes:
        bench_size(args.bin, os.path.join(args.work, str(n)), n, args.raw, args.gzip, n <= args.peers_up_to, args.loop_days)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def bench_size(noshow, work, n, reuse_raw=None, gzip=False, peers=True, loop_days=0):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    raw, lake, out, model = (os.path.join(work, x) for x in ("raw", "lake", "out", "model"))
    duck = os.path.join(work, "duck")
    os.makedirs(duck)
    env = dict(os.environ, NOSHOW_PSEUDONYM_KEY="bench-key-0123456789abcdef")
    base = ["--as-of", AS_OF, "--tz", "UTC", "--quiet"]
    rows = []
    if reuse_raw:
        raw = reuse_raw
    else:
        g = timed([noshow, "generate", "--out", raw, "--interviews", str(n), "--seed", "1"] + (["--gzip"] if gzip else []) + base, env)
        rows.append(("generate", g, None, "-"))

    ing = timed([noshow, "ingest", "--raw", raw, "--lake", lake] + base, env)
    summary = json.load(open(os.path.join(lake, "current", "summary.json")))
    if peers:
        dk = timed(py(DUCK_INGEST) + [raw, duck], env)
        i, e, lost = dk[2].split()
        rows.append(("ingest", ing, dk, f"rows: duckdb {i} {e}, noshow kept {kept(summary)}; "
                                        f"duckdb left {lost} required timestamps NULL"))
        shutil.rmtree(duck)
    else:
        rows.append(("ingest", ing, None, f"noshow kept {kept(summary)}"))

    rep = timed([noshow, "report", "--lake", lake, "--out", os.path.join(out, "report")] + base, env)
    if peers:
        dr = timed(py(DUCK_RATES) + [lake, AS_OF], env)
        rows.append(("report", rep, dr, compare_rates(os.path.join(out, "report"), json.loads(dr[2]))))
    else:
        rows.append(("report", rep, None, "-"))

    design = os.path.join(work, "design.parquet")
    if peers:
        # Timed as users run it: without --export-design. The design matrix the peer
        # fits is written by a second run (its time shown, not the stage's) into a scratch model folder (the
        # same lake and settings give the same fit; the coefficients compared below
        # are the timed run's). Until 2026-12-02 the timed run wrote the design too,
        # about 1.2 s of Parquet writing at 1 M that `train` never does for a user.
        tr = timed([noshow, "train", "--lake", lake, "--model", model] + base, env)
        scratch = os.path.join(work, "model-design")
        ex = timed([noshow, "train", "--lake", lake, "--model", scratch, "--export-design", design] + base, env)
        shutil.rmtree(scratch)
        mj = json.load(open(os.path.join(model, "model.json")))
        # The penalty the model was fitted with (chosen by the search unless fixed):
        # model.json's solver block. (Until 2026-12-02 this read a key model.json never
        # had, so the peer fitted l2 = 1 whatever noshow chose.)
        l2 = mj["solver"]["l2"]
        sk = timed(py(SKLEARN_FIT) + [design, str(l2)], env)
        rows.append(("train", tr, sk, compare_coefs(mj, json.loads(sk[2])) + f"; with --export-design {ex[0]:.2f} s"))
        os.remove(design)
    else:
        tr = timed([noshow, "train", "--lake", lake, "--model", model] + base, env)
        rows.append(("train", tr, None, "-"))

    sc = timed([noshow, "score", "--lake", lake, "--model", model, "--out", os.path.join(out, "scores")] + base, env)
    rows.append(("score", sc, None, "-"))
    if loop_days > 0:
        rows.extend(bench_loop(noshow, work, raw, lake, out, model, loop_days, ing, env))

    shutil.rmtree(lake)
    shutil.rmtree(out)
    shutil.rmtree(model)
    run = timed([noshow, "run", "--raw", raw, "--lake", lake, "--out", out, "--model", model] + base, env)
    rows.append(("whole run", run, None, run_stages(lake)))

    # A weekly export holding 1 % new or changed interviews, into the lake just built;
    # the peer is the full ingest above (ratio = increment / full).
    inc = os.path.join(work, "raw-increment")
    n_inc = write_increment(raw, inc, max(1, n // 100))
    incr = timed([noshow, "ingest", "--raw", inc, "--lake", lake] + base, env)
    rows.append(("weekly 1 %", incr, ing, f"{n_inc} interview rows, full ingest as the peer"))
    shutil.rmtree(inc)

    print(f"\n{n:,} interviews (load average now {os.getloadavg()[0]:.2f})")
    print(f"{'stage':10} {'noshow s':>9} {'peer s':>8} {'ratio':>6} {'noshow CPU s':>12} {'peer CPU s':>10} "
          f"{'noshow MiB':>10} {'peer MiB':>9}  agreement")
    for name, mine, peer, note in rows:
        ps = f"{peer[0]:8.2f}" if peer else f"{'-':>8}"
        ratio = f"{mine[0] / peer[0]:6.2f}" if peer else f"{'-':>6}"
        pc = f"{peer[3]:10.2f}" if peer else f"{'-':>10}"
        pm = f"{peer[1]:9.0f}" if peer else f"{'-':>9}"
        print(f"{name:10} {mine[0]:9.2f} {ps} {ratio} {mine[3]:12.2f} {pc} {mine[1]:10.0f} {pm}  {note}")
    sys.stdout.flush()


def write_increment(raw, out, k):
    """An export of k interviews: half re-exported with a later update (status changed),
    half new (new ids, with a copy of their original's events). Returns the row count."""
    import csv
    import gzip
    def opener(path):
        return gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(path, encoding="utf-8")
    files = sorted(os.listdir(raw))
    ivw = [f for f in files if f.startswith("interviews-") and "reexport" not in f][-1]
    with opener(os.path.join(raw, ivw)) as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [r for _, r in zip(range(k), reader)]
    col = {name: i for i, name in enumerate(header)}
    os.makedirs(out)
    new_ids = {}
    with open(os.path.join(out, "interviews-increment.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for j, r in enumerate(rows):
            r = list(r)
            if j % 2 == 0:
                r[col["status"]] = "attended"
                r[col["cause"]] = ""
                r[col["no_show_grade"]] = ""
                r[col["updated_at"]] = AS_OF
            else:
                new_ids[r[col["interview_id"]]] = r[col["interview_id"]] + "-w2"
                r[col["interview_id"]] = new_ids[r[col["interview_id"]]]
            w.writerow(r)
    ev = [f for f in files if f.startswith("events-")][-1]
    with opener(os.path.join(raw, ev)) as f, open(os.path.join(out, "events-increment.jsonl"), "w", encoding="utf-8") as o:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            iv = str(e.get("interview_id"))
            if iv in new_ids:
                e["interview_id"] = new_ids[iv]
                e["event_id"] = f"{e.get('event_id')}-w2"
                o.write(json.dumps(e) + "\n")
    return len(rows)


def bench_loop(noshow, work, raw, lake, out, model, days, ingest, env):
    """The closed loop's cost: `days` daily scores (each appends its feed and drift sidecar
    to LAKE/feeds/ and reads the earlier arms back), then the outcomes of those feeds
    (generate --outcomes-for) ingested, and the report with the archive against the same
    report with the archive moved aside. Rows: (name, timed, None, note)."""
    import datetime
    start = datetime.datetime.fromisoformat(AS_OF.replace("Z", "+00:00"))
    day = lambda d: (start + datetime.timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ")
    quiet = ["--tz", "UTC", "--quiet"]
    # The score run before the loop already archived AS_OF's feed: start the days after it.
    scores = []
    for d in range(1, days + 1):
        scores.append(timed([noshow, "score", "--lake", lake, "--model", model, "--out", os.path.join(out, "scores"),
                             "--holdout-share", "0.2", "--as-of", day(d)] + quiet, env))
    entries = sorted(os.listdir(os.path.join(lake, "feeds")))
    feeds = [os.path.join(lake, "feeds", e, "feed.parquet") for e in entries if not e.startswith(".")]
    later = day(days + 21)
    outcomes = sum([["--outcomes-for", f] for f in feeds], [])
    gen = timed([noshow, "generate", "--out", raw, "--lake", lake, "--seed", "3", "--as-of", later, "--force"] + outcomes + quiet, env)
    ing = timed([noshow, "ingest", "--raw", raw, "--lake", lake] + quiet, env)
    with_loop = timed([noshow, "report", "--lake", lake, "--out", os.path.join(out, "report"), "--as-of", later] + quiet, env)
    aside = os.path.join(work, "feeds-aside")
    os.rename(os.path.join(lake, "feeds"), aside)
    try:
        without = timed([noshow, "report", "--lake", lake, "--out", os.path.join(out, "report"), "--as-of", later] + quiet, env)
    finally:
        os.rename(aside, os.path.join(lake, "feeds"))
    first, last = scores[0], scores[-1]
    daily = ingest[0] + last[0]
    extra = with_loop[0] - without[0]
    return [
        (f"score d1", first, None, f"archive of 1 day before it"),
        (f"score d{days}", last, None, f"archive of {days} days before it; +{last[0] - first[0]:.2f} s against day 1 "
                                       f"({100 * (last[0] - first[0]) / daily:.1f} % of a daily ingest + score)"),
        ("outcomes", gen, None, f"generate --outcomes-for {len(feeds)} feeds"),
        ("ingest 2", ing, None, "the outcomes export"),
        ("report -", without, None, "archive moved aside: no loop tables"),
        ("report +", with_loop, None, f"help_effect, model_monitoring, drift: +{extra:.2f} s "
                                      f"({100 * extra / without[0]:.1f} % of the report)"),
    ]


def run_stages(lake):
    """The whole run's own per-stage times, from its run log."""
    logs = sorted(os.listdir(os.path.join(lake, "runs")))
    log = json.load(open(os.path.join(lake, "runs", logs[-1])))
    parts = []
    for st in log.get("stages", []):
        parts.append(f"{st.get('stage', st.get('name', '?'))} {st.get('seconds', 0):.1f} s")
    return "; ".join(parts) or "-"


def kept(summary):
    try:
        return f"{summary['interviews']['kept']} {summary['events']['kept']}"
    except (KeyError, TypeError):
        return "?"


def compare_rates(report_dir, duck):
    import pandas as pd
    worst = 0
    for d, segs in duck.items():
        t = pd.read_parquet(os.path.join(report_dir, f"rates_by_{d}.parquet"))
        for _, r in t.iterrows():
            key = "None" if pd.isna(r[d]) else str(r[d]).lower() if d == "fresh_graduate" else str(r[d])
            if key in segs and not r.get("suppressed", False):
                worst = max(worst, abs(int(r["no_shows"]) - segs[key][1]), abs(int(r["interviews"]) - segs[key][0]))
    return "rates agree" if worst == 0 else f"max count difference {worst}"


def compare_coefs(model_json, sk):
    coefs = model_json.get("coefficients", {})
    if isinstance(coefs, list):
        coefs = {c["feature"]: c["coef"] for c in coefs}
    diffs = [abs(coefs[k] - v) for k, v in sk["coef"].items() if k in coefs]
    if not diffs:
        return "no common coefficients"
    return f"max |coef diff| {max(diffs):.2e} over {len(diffs)} coefficients"


if __name__ == "__main__":
    main()
