"""Write the seed corpus of the `mapped_export` fuzz target (fuzz/seeds/mapped_export/)
and copy it to tests/fixtures/fuzz/mapped_export/, which tests/fuzz_replay.rs replays.
Each seed is one mode byte (see fuzz/fuzz_targets/common.rs::mapped_export) followed
by the file's bytes. Run from the repository root: python3 tests/py/make_mapped_fuzz_seeds.py
(needs openpyxl). The output is the same on every run.
"""
import datetime as dt
import io
import shutil
from pathlib import Path

import openpyxl

OUT = Path("fuzz/seeds/mapped_export")
REPLAY = Path("tests/fixtures/fuzz/mapped_export")
XLSX, CELLS, TEXT = 0, 1, 2
AUTO, GB18030, UTF16, UTF8 = 0, 1, 2, 3
IV_HEADER = ["面试编号", "候选人", "岗位", "地区", "邀约时间", "面试时间", "状态", "招聘负责人"]
IV_ROWS = [
    ["i1", "c1", "销售", "华东", "2026/06/01 09:00", "2026/06/02 10:00", "已参加", "王芳"],
    ["i2", "c2", "销售", "华东", "2026年6月1日 9:00", "2026-06-02 11:00:00", "未到场", "李娜"],
    ["i3", "c3", "客服", "华北", "2026/06/01 09:00", "2026/13/02 11:00", "缺席", ""],
    ["i4", "", "客服", "华北", "2026/06/01 09:00", "2026/06/02 12:00", "attended", "张伟"],
]
EV_HEADER = ["事件编号", "面试编号", "时间", "类型", "channel"]
EV_ROWS = [
    ["e1", "i1", "2026/06/02 10:01", "参加", ""],
    ["e2", "i1", "2026-06-01T09:05:00+08:00", "已读", "sms"],
    ["e3", "i2", "soon", "teleported", "pigeon"],
]


def mode(form, enc=AUTO, semicolon=False, title=False, events=False):
    return bytes([form | enc << 2 | int(semicolon) << 4 | int(title) << 5 | int(events) << 6])


def text(header, rows, delim, title):
    lines = (["面试导出（示例）"] if title else []) + [delim.join(r) for r in [header] + rows]
    return "\r\n".join(lines) + "\r\n"


def xlsx(header, rows, title):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "面试记录"
    if title:
        ws.append(["2026年 面试记录导出"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(header)
    for r in rows:
        cells = []
        for v in r:
            try:
                cells.append(dt.datetime.strptime(v, "%Y/%m/%d %H:%M"))
            except ValueError:
                cells.append(v)
        ws.append(cells)
    wb.properties.created = dt.datetime(2026, 11, 16)
    wb.properties.modified = dt.datetime(2026, 11, 16)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def cells(header, rows, title):
    lines = (["标题"] if title else []) + ["\t".join(header)]
    for r in rows:
        lines.append("\t".join(("@46174.4166" if "/" in v else v) for v in r) + "\t#90.5")
    return "\n".join(lines).encode("utf-8")


def main():
    seeds = {
        "xlsx-title": mode(XLSX, title=True) + xlsx(IV_HEADER, IV_ROWS, True),
        "xlsx-plain": mode(XLSX) + xlsx(IV_HEADER, IV_ROWS, False),
        "xlsx-events": mode(XLSX, events=True) + xlsx(EV_HEADER, EV_ROWS, False),
        "xlsx-truncated": mode(XLSX, title=True) + xlsx(IV_HEADER, IV_ROWS, True)[:1500],
        "xlsx-not-a-zip": mode(XLSX) + b"PK\x03\x04 this is not a workbook",
        "cells-title": mode(CELLS, title=True) + cells(IV_HEADER, IV_ROWS, True),
        "cells-events": mode(CELLS, events=True) + cells(EV_HEADER, EV_ROWS, False),
        "gbk-semicolon-title": mode(TEXT, AUTO, title=True) + text(IV_HEADER, IV_ROWS, ";", True).encode("gb18030"),
        "gbk-forced": mode(TEXT, GB18030, semicolon=True) + text(IV_HEADER, IV_ROWS, ";", False).encode("gb18030"),
        "utf16-tab": mode(TEXT, UTF16) + text(IV_HEADER, IV_ROWS, "\t", False).encode("utf-16"),
        "utf16be-bom-auto": mode(TEXT, AUTO, title=True) + b"\xfe\xff" + text(IV_HEADER, IV_ROWS, ",", True).encode("utf-16-be"),
        "utf8-bom-pipe": mode(TEXT, UTF8) + b"\xef\xbb\xbf" + text(IV_HEADER, IV_ROWS, "|", False).encode("utf-8"),
        "utf8-quoted": mode(TEXT, AUTO) + '面试编号,候选人,岗位,地区,邀约时间,面试时间,状态,招聘负责人\n"i9","c9","销售\n华东",华东,2026/06/01 09:00,2026/06/02 10:00,已参加,"王""芳"\n'.encode("utf-8"),
        "events-gbk": mode(TEXT, AUTO, events=True) + text(EV_HEADER, EV_ROWS, ";", False).encode("gb18030"),
        "events-utf16": mode(TEXT, UTF16, events=True, title=True) + text(EV_HEADER, EV_ROWS, "\t", True).encode("utf-16"),
        "missing-header": mode(TEXT, AUTO) + "面试编号,候选人\ni1,c1\n".encode("gb18030"),
        "not-gbk": mode(TEXT, GB18030) + b"\x81\x30\xff\xfe,abc\n",
        "empty": mode(TEXT, AUTO),
        "cells-odd-numbers": mode(CELLS) + "\t".join(IV_HEADER).encode() + "\ni1\t#1e300\t#-0\t@-5\t@1e9\t@60\t#0.1\t已参加\n".encode(),
        "utf16-odd-length": mode(TEXT, UTF16, semicolon=True) + ";".join(IV_HEADER).encode("utf-16") + b"\x00",

    }
    for d in (OUT, REPLAY):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        for name, data in seeds.items():
            (d / name).write_bytes(data)


if __name__ == "__main__":
    main()
