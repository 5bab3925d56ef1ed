#!/usr/bin/env python3
"""Independent check of `noshow report`'s rate tables with DuckDB.

Reads the lake's Parquet files directly (not through noshow), applies the input
spec's derived-status rule in SQL, recomputes every one-way rate table and compares it
with OUT/rates_by_<dim>.parquet: segment set, counts, rates, Wilson bounds and
suppression. Prints one line per table and exits 1 on any mismatch.

    python3 tests/py/check_rates.py --lake LAKE --out OUT --as-of 2026-03-30T00:00:00+08:00 \
        --tz Asia/Shanghai [--grace-minutes 15] [--suppression-threshold 10]
"""
import argparse
import math
import sys
from datetime import datetime

import duckdb
import pandas as pd

DIMS = ["role", "region", "education", "fresh_graduate", "source", "preferred_channel", "week", "month"]
# The local-time keys are computed here (the lake's `month=` folders are UTC months).
KEY_COLUMN = {"month": "local_month"}
Z = 1.959964
TOL = 1e-9


def wilson(k, n):
    p = k / n
    d = 1 + Z * Z / n
    c = (p + Z * Z / (2 * n)) / d
    h = Z / d * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, c - h), min(1.0, c + h)


def key(v):
    if v is None or pd.isna(v):
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--tz", default="UTC")
    ap.add_argument("--grace-minutes", type=int, default=15)
    ap.add_argument("--suppression-threshold", type=int, default=10)
    a = ap.parse_args()

    as_of = datetime.fromisoformat(a.as_of.replace("Z", "+00:00"))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW interviews AS SELECT * FROM read_parquet('{a.lake}/interviews/**/*.parquet')")
    con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{a.lake}/events/**/*.parquet')")
    # The derived-status rule of the input spec, in SQL.
    con.execute(
        """
        CREATE TABLE closed AS
        WITH joined AS (
            SELECT DISTINCT interview_id FROM events WHERE type = 'joined' AND ts <= $as_of
        ), derived AS (
            SELECT i.*,
                CASE WHEN i.status = 'scheduled' AND i.scheduled_at < $as_of - to_minutes($grace)
                     THEN CASE WHEN j.interview_id IS NOT NULL THEN 'attended' ELSE 'no_show' END
                     ELSE i.status END AS final_status,
                timezone($tz, i.scheduled_at) AS local_slot
            FROM interviews i LEFT JOIN joined j USING (interview_id)
        )
        SELECT *, printf('%d-W%02d', isoyear(local_slot), week(local_slot)) AS week,
            strftime(local_slot, '%Y-%m') AS local_month
        FROM derived WHERE final_status <> 'scheduled' AND scheduled_at < $as_of
        """,
        {"as_of": as_of, "grace": a.grace_minutes, "tz": a.tz},
    )
    failures = 0
    for dim in DIMS:
        want = {}
        rows = con.execute(
            f"""
            SELECT {KEY_COLUMN.get(dim, dim)} AS seg, count(*) AS n,
                count(*) FILTER (WHERE final_status = 'attended'),
                count(*) FILTER (WHERE final_status = 'no_show'),
                count(*) FILTER (WHERE final_status = 'cancelled_by_candidate'),
                count(*) FILTER (WHERE final_status = 'cancelled_by_company'),
                count(*) FILTER (WHERE final_status = 'rescheduled')
            FROM closed GROUP BY ALL
            """
        ).fetchall()
        for seg, n, att, ns, cc, co, rs in rows:
            want[key(seg)] = (n, att, ns, cc, co, rs)
        got = con.execute(f"SELECT * FROM read_parquet('{a.out}/rates_by_{dim}.parquet')").fetch_df()
        problems = []
        if len(got) != len(want):
            problems.append(f"{len(got)} rows, expected {len(want)}")
        for _, r in got.iterrows():
            seg = key(r[dim])
            if seg not in want:
                problems.append(f"unexpected segment {seg!r}")
                continue
            n, att, ns, cc, co, rs = want[seg]
            if n < a.suppression_threshold:
                if not r["suppressed"] or not pd.isna(r["interviews"]):
                    problems.append(f"{seg!r}: {n} interviews should be suppressed")
                continue
            got_counts = tuple(int(r[c]) for c in ["interviews", "attended", "no_shows", "cancelled_by_candidate", "cancelled_by_company", "rescheduled"])
            if got_counts != (n, att, ns, cc, co, rs):
                problems.append(f"{seg!r}: counts {got_counts} != {(n, att, ns, cc, co, rs)}")
            lo, hi = wilson(ns, n)
            for col, value in [("no_show_rate", ns / n), ("no_show_rate_low", lo), ("no_show_rate_high", hi), ("cancel_rate", cc / n)]:
                if abs(r[col] - value) > TOL:
                    problems.append(f"{seg!r}: {col} {r[col]} != {value}")
        status = "ok" if not problems else "MISMATCH"
        print(f"rates_by_{dim}: {len(want)} segments, {sum(v[0] for v in want.values())} closed interviews: {status}")
        for p in problems[:10]:
            print(f"  {p}")
        failures += bool(problems)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
