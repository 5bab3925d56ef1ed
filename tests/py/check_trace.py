#!/usr/bin/env python3
"""Independent check of `noshow report`'s confirmation and link-error tables with DuckDB.

Reads the lake's Parquet files directly, applies the derived-status rule in SQL, and
recomputes `confirmations` (overall and by role), `confirmation_time`,
`confirmation_no_show`, `link_error_rates` (by role), `link_errors` (events by code)
and `cancel_reasons` (normalised texts, no reason map), then compares them with OUT/*.parquet. Prints one line per table and exits 1
on any mismatch.

    python3 tests/py/check_trace.py --lake LAKE --out OUT --as-of 2026-11-16T00:00:00+08:00 \
        [--grace-minutes 15] [--suppression-threshold 10]
"""
import argparse
import sys
from datetime import datetime

import duckdb
import pandas as pd

TOL = 1e-9


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--grace-minutes", type=int, default=15)
    ap.add_argument("--suppression-threshold", type=int, default=10)
    a = ap.parse_args()
    as_of = datetime.fromisoformat(a.as_of.replace("Z", "+00:00"))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW interviews AS SELECT * FROM read_parquet('{a.lake}/interviews/**/*.parquet')")
    con.execute(f"CREATE TABLE ev AS SELECT * FROM read_parquet('{a.lake}/events/**/*.parquet') WHERE ts <= $as_of", {"as_of": as_of})
    con.execute(
        """
        CREATE TABLE closed AS
        WITH joined AS (SELECT DISTINCT interview_id FROM ev WHERE type = 'joined'),
        derived AS (
            SELECT i.*,
                CASE WHEN i.status = 'scheduled' AND i.scheduled_at < $as_of - to_minutes($grace)
                     THEN CASE WHEN j.interview_id IS NOT NULL THEN 'attended' ELSE 'no_show' END
                     ELSE i.status END AS final_status
            FROM interviews i LEFT JOIN joined j USING (interview_id)
        ),
        facts AS (
            SELECT interview_id,
                min(ts) FILTER (WHERE type = 'confirmed') AS first_confirm,
                min(ts) FILTER (WHERE type = 'cancel_requested') AS first_cancel,
                count(*) FILTER (WHERE type = 'link_error') AS link_errors
            FROM ev GROUP BY interview_id
        )
        SELECT d.*, f.first_confirm, f.first_cancel, coalesce(f.link_errors, 0) AS link_errors
        FROM derived d LEFT JOIN facts f USING (interview_id)
        WHERE d.final_status <> 'scheduled' AND d.scheduled_at < $as_of
        """,
        {"as_of": as_of, "grace": a.grace_minutes},
    )
    con.execute(
        """
        CREATE TABLE conf AS
        SELECT *, first_confirm IS NOT NULL AND first_confirm < scheduled_at AS confirmed,
            CASE WHEN first_confirm IS NOT NULL AND first_confirm < scheduled_at
                 THEN epoch_us(first_confirm - invited_at) / 3600e6 END AS hours
        FROM closed WHERE final_status <> 'cancelled_by_company'
        """
    )
    failures = 0

    def report(name, problems, rows):
        nonlocal failures
        print(f"{name}: {rows} rows: {'ok' if not problems else 'MISMATCH'}")
        for p in problems[:10]:
            print(f"  {p}")
        failures += bool(problems)

    def table(name):
        return con.execute(f"SELECT * FROM read_parquet('{a.out}/{name}.parquet')").fetch_df()

    got = table("confirmations")
    want = {
        (g, v): (n, c, d)
        for g, v, n, c, d in con.execute(
            """
            SELECT 'all', 'all', count(*), count(*) FILTER (WHERE confirmed), count(*) FILTER (WHERE confirmed AND hours < 24) FROM conf
            UNION ALL
            SELECT 'role', role, count(*), count(*) FILTER (WHERE confirmed), count(*) FILTER (WHERE confirmed AND hours < 24) FROM conf GROUP BY role
            """
        ).fetchall()
    }
    problems = []
    for (g, v), (n, c, d) in want.items():
        row = got[(got["group"] == g) & (got["value"] == v)]
        if len(row) != 1:
            problems.append(f"{g}/{v}: {len(row)} rows")
            continue
        r = row.iloc[0]
        if n < a.suppression_threshold:
            if not r["suppressed"]:
                problems.append(f"{g}/{v}: {n} interviews should be suppressed")
            continue
        if (int(r["interviews"]), int(r["confirmed"]), int(r["confirmed_within_24h"])) != (n, c, d):
            problems.append(f"{g}/{v}: {(r['interviews'], r['confirmed'], r['confirmed_within_24h'])} != {(n, c, d)}")
        elif abs(r["confirmation_rate"] - c / n) > TOL:
            problems.append(f"{g}/{v}: rate {r['confirmation_rate']} != {c / n}")
    report("confirmations", problems, len(want))

    got = table("confirmation_time")
    want = dict(
        con.execute(
            """
            SELECT CASE WHEN hours IS NULL THEN 'not_confirmed' WHEN hours < 0 THEN 'before_invitation'
                WHEN hours < 1 THEN '0-1h' WHEN hours < 6 THEN '1-6h' WHEN hours < 24 THEN '6-24h'
                WHEN hours < 72 THEN '1-3d' ELSE '3d+' END AS b, count(*) FROM conf GROUP BY b
            """
        ).fetchall()
    )
    have = {r["confirm_time"]: int(r["count"]) for _, r in got.iterrows() if not pd.isna(r["count"])}
    report("confirmation_time", [] if have == want else [f"{have} != {want}"], len(want))

    got = table("confirmation_no_show")
    want = {
        k: (n, ns)
        for k, n, ns in con.execute(
            """
            SELECT first_confirm IS NOT NULL AND first_confirm <= scheduled_at - INTERVAL 24 HOUR AS k, count(*),
                count(*) FILTER (WHERE final_status = 'no_show')
            FROM closed
            WHERE final_status NOT IN ('cancelled_by_company', 'rescheduled')
              AND invited_at <= scheduled_at - INTERVAL 24 HOUR
              AND (first_cancel IS NULL OR first_cancel >= scheduled_at - INTERVAL 24 HOUR)
            GROUP BY k
            """
        ).fetchall()
    }
    have = {bool(r["confirmed_24h_before"]): (int(r["interviews"]), int(r["no_shows"])) for _, r in got.iterrows()}
    report("confirmation_no_show", [] if have == want else [f"{have} != {want}"], len(want))

    got = table("link_error_rates")
    want = {
        role: (n, w, e)
        for role, n, w, e in con.execute(
            "SELECT role, count(*), count(*) FILTER (WHERE link_errors > 0), sum(link_errors) FROM closed GROUP BY role"
        ).fetchall()
    }
    problems = []
    for role, (n, w, e) in want.items():
        row = got[(got["group"] == "role") & (got["value"] == role)].iloc[0]
        if n >= a.suppression_threshold and (int(row["interviews"]), int(row["with_link_error"]), int(row["link_error_events"])) != (n, w, e):
            problems.append(f"{role}: {(row['interviews'], row['with_link_error'], row['link_error_events'])} != {(n, w, e)}")
    report("link_error_rates", problems, len(want))

    got = table("link_errors_by_invite_age")
    want = dict(
        con.execute(
            """
            SELECT lower(trim(e.detail)), count(*) FROM ev e JOIN closed c USING (interview_id)
            WHERE e.type = 'link_error' GROUP BY ALL
            """
        ).fetchall()
    )
    have = {}
    for _, r in got.iterrows():
        if not pd.isna(r["count"]):
            have[r["error_code"]] = have.get(r["error_code"], 0) + int(r["count"])
    report("link_errors (events by code)", [] if have == want else [f"{have} != {want}"], len(want))
    # Cancellation reasons: normalised (trimmed, case-folded, white space collapsed); no
    # reason map in this run, and threshold 1 pools nothing.
    got = table("cancel_reasons")
    raw = con.execute(
        "SELECT e.detail FROM ev e JOIN closed c USING (interview_id) WHERE e.type = 'cancel_requested'"
    ).fetchall()
    want = {}
    for (detail,) in raw:
        text = " ".join(detail.lower().split()) if detail is not None else ""
        key = text or None
        want[key] = want.get(key, 0) + 1
    have = {(None if pd.isna(r["reason"]) else r["reason"]): int(r["requests"]) for _, r in got.iterrows()}
    report("cancel_reasons", [] if have == want else [f"{have} != {want}"], len(want))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
