#!/usr/bin/env python3
"""Reads a noshow lake with tools independent of noshow and prints its counts as JSON.

Usage: check_lake.py LAKE

DuckDB reads the tables through the documented glob (`LAKE/TABLE/**/*.parquet`),
pyarrow reads each file and its key-value metadata, and pandas reads the interviews.
The counts must agree with each other and with LAKE/current/manifest.json; any
disagreement exits 1. CI compares the printed JSON with the run's summary.
"""

import json
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq


def main() -> int:
    lake = Path(sys.argv[1])
    manifest = json.loads((lake / "current" / "manifest.json").read_text(encoding="utf-8"))
    con = duckdb.connect()
    out = {"lake_version": manifest["lake_version"], "tables": {}}
    problems = []
    for table in ("interviews", "events", "rejected"):
        glob = str(lake / table / "**" / "*.parquet")
        duck_rows = con.execute(f"select count(*) from read_parquet('{glob}')").fetchone()[0]
        arrow_rows = 0
        for path in sorted((lake / table).rglob("*.parquet")):
            f = pq.ParquetFile(path)
            meta = {k.decode(): v.decode() for k, v in (f.metadata.metadata or {}).items()}
            if meta.get("noshow.table") != table:
                problems.append(f"{path}: noshow.table is {meta.get('noshow.table')!r}")
            if meta.get("noshow.lake_version") != str(manifest["lake_version"]):
                problems.append(f"{path}: noshow.lake_version is {meta.get('noshow.lake_version')!r}")
            json.loads(meta.get("noshow.source_files", "null"))
            arrow_rows += f.metadata.num_rows
        expected = manifest["tables"][table]["rows"]
        out["tables"][table] = {"rows": duck_rows}
        if not duck_rows == arrow_rows == expected:
            problems.append(f"{table}: duckdb {duck_rows}, pyarrow {arrow_rows}, manifest {expected}")

    iv = str(lake / "interviews" / "**" / "*.parquet")
    ev = str(lake / "events" / "**" / "*.parquet")
    rj = str(lake / "rejected" / "**" / "*.parquet")
    distinct = con.execute(f"select count(distinct interview_id) from read_parquet('{iv}')").fetchone()[0]
    if distinct != out["tables"]["interviews"]["rows"]:
        problems.append(f"interviews: {distinct} distinct ids in {out['tables']['interviews']['rows']} rows")
    distinct_events = con.execute(f"select count(distinct event_id) from read_parquet('{ev}')").fetchone()[0]
    if distinct_events != out["tables"]["events"]["rows"]:
        problems.append(f"events: {distinct_events} distinct ids in {out['tables']['events']['rows']} rows")
    out["orphan_events"] = con.execute(
        f"select count(*) from read_parquet('{ev}') e "
        f"where not exists (select 1 from read_parquet('{iv}') i where i.interview_id = e.interview_id)"
    ).fetchone()[0]
    out["status"] = dict(
        con.execute(f"select status, count(*) from read_parquet('{iv}') group by status order by status").fetchall()
    )
    out["set_aside_by_reason"] = {}
    if out["tables"]["rejected"]["rows"] > 0:
        rows = con.execute(
            f"select kind, split_part(reason, ':', 1) as code, count(*) from read_parquet('{rj}') "
            f"where severity = 'set_aside' group by kind, code order by kind, code"
        ).fetchall()
        for kind, code, n in rows:
            out["set_aside_by_reason"].setdefault(kind, {})[code] = n
    frame = pd.read_parquet(lake / "current" / "interviews")
    if len(frame) != out["tables"]["interviews"]["rows"]:
        problems.append(f"pandas reads {len(frame)} interviews")
    if len(frame) and str(frame["scheduled_at"].dtype) not in ("datetime64[us, UTC]", "datetime64[ns, UTC]"):
        problems.append(f"scheduled_at reads as {frame['scheduled_at'].dtype}, not a UTC timestamp")

    print(json.dumps(out, ensure_ascii=False, indent=2, sort_keys=True))
    for p in problems:
        print(f"check_lake: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
