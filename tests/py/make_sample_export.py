"""Re-export the committed sample (data/sample/) the way a Chinese HR system would:
data/sample-export/ holds one .xlsx workbook (a title row above Chinese headers,
times as Excel date cells) and one GB18030 CSV with semicolons and `2026/06/01
09:00:00` times, Chinese status words, a region spelled two ways and an extra
招聘负责人 (recruiter) column; the events stay in format v1. examples/hr-export.toml
maps it back. Run from the repository root: python3 tests/py/make_sample_export.py
(needs openpyxl). The output is the same on every run.
"""
import csv
import datetime as dt
import hashlib
import io
import re
import shutil
from pathlib import Path

import openpyxl

SRC = Path("data/sample")
OUT = Path("data/sample-export")
HEADERS = {
    "interview_id": "面试编号", "candidate_id": "候选人编号", "role": "岗位", "region": "地区",
    "education": "学历", "fresh_graduate": "应届生", "source": "来源渠道", "preferred_channel": "偏好渠道",
    "invited_at": "邀约时间", "scheduled_at": "面试时间", "status": "面试状态", "cause": "原因",
    "no_show_grade": "爽约等级", "cost": "成本", "updated_at": "更新时间",
}
STATUS = {"attended": "已参加", "no_show": "未到场", "cancelled_by_candidate": "候选人取消",
          "cancelled_by_company": "公司取消", "rescheduled": "已改期", "scheduled": "待面试"}
RECRUITERS = ["王芳", "李娜", "张伟", "刘洋", "陈静"]
NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$")
TIMES = ("invited_at", "scheduled_at", "updated_at")


def rows(path):
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader)]
    for row in reader:
        if len(row) != len(header):
            continue  # set aside by ingest either way (wrong field count)
        yield dict(zip(header, row))


def export_row(r, k):
    out = dict(r)
    status = r["status"].strip().lower()
    out["status"] = STATUS.get(status, r["status"])
    if r["region"] == "华东" and k % 2 == 0:
        out["region"] = "华东区"
    digest = hashlib.sha256(r["interview_id"].encode()).digest()
    out["recruiter"] = RECRUITERS[digest[0] % len(RECRUITERS)]
    return out


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    files = sorted(SRC.glob("interviews-*.csv"))
    book_files = [f for f in files if f.name in ("interviews-001.csv", "interviews-002.csv", "interviews-003.csv")]
    csv_files = [f for f in files if f not in book_files]
    order = list(HEADERS)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "面试记录"
    ws.append(["2026年 AI 面试记录导出（示例）"])
    ws.append([HEADERS[c] for c in order] + ["招聘负责人"])
    k = 0
    for f in book_files:
        for r in rows(f):
            e = export_row(r, k)
            k += 1
            cells = []
            for c in order:
                v = e[c]
                if c in TIMES and NAIVE.match(v.strip()):
                    cells.append(dt.datetime.fromisoformat(v.strip().replace("T", " ")))
                else:
                    cells.append(v)
            ws.append(cells + [e["recruiter"]])
    # Fixed metadata so the workbook is the same bytes on every run.
    wb.properties.created = dt.datetime(2026, 11, 16)
    wb.properties.modified = dt.datetime(2026, 11, 16)
    wb.save(OUT / "面试记录.xlsx")

    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow([HEADERS[c] for c in order] + ["招聘负责人"])
    for f in csv_files:
        for r in rows(f):
            e = export_row(r, k)
            k += 1
            for c in TIMES:
                if NAIVE.match(e[c].strip()):
                    e[c] = e[c].strip().replace("-", "/").replace("T", " ")
            w.writerow([e[c] for c in order] + [e["recruiter"]])
    (OUT / "面试导出.csv").write_bytes(buf.getvalue().encode("gb18030"))
    for f in sorted(SRC.glob("events-*.jsonl.gz")):
        shutil.copy(f, OUT / f.name)


if __name__ == "__main__":
    main()
