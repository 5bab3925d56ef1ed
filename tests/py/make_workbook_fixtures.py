"""Write the workbook fixtures of tests/mapping.rs, committed so the tests need none of
the tools used here.

tests/fixtures/hr-export-legacy.xls: a small legacy Excel 97-2003 workbook
(BIFF8, as older HR systems still export) in the style of data/sample-export/: a
merged title row above Chinese headers, times as Excel date cells and as text, Chinese
status words, an extra 招聘负责人 column, and one row whose status word no mapping
knows. tests/mapping.rs::a_legacy_xls_workbook_reaches_the_lake reads it.

tests/fixtures/hr-export-encrypted.xlsx: the first sheet of data/sample-export/面试记录.xlsx
cut to a few rows and saved with a password (`noshow`), as Excel's "Encrypt with
Password" does: an OLE container holding the encrypted package, not a zip.

Run from the repository root: python3 tests/py/make_workbook_fixtures.py (needs xlwt,
openpyxl and msoffcrypto-tool from PyPI). The .xls is the same on every run; the
encrypted file is not (its salt is random), which does not matter to the tests.
"""
import datetime as dt
import io

import msoffcrypto.format.ooxml
import openpyxl
import xlwt

HEADERS = ["面试编号", "候选人编号", "岗位", "地区", "邀约时间", "面试时间", "面试状态", "成本", "招聘负责人"]
ROWS = [
    ("xls-001", "c-001", "销售", "华东", dt.datetime(2026, 6, 1, 9, 0), dt.datetime(2026, 6, 3, 10, 0), "已参加", 90.5, "王芳"),
    ("xls-002", "c-002", "销售", "华东区", dt.datetime(2026, 6, 1, 9, 30), dt.datetime(2026, 6, 3, 14, 30), "未到场", 90, "李娜"),
    ("xls-003", "c-003", "客服", "华北", "2026/06/02 11:00", "2026/06/04 09:00", "候选人取消", "", "张伟"),
    ("xls-004", "c-004", "客服", "华南", dt.datetime(2026, 6, 2, 8, 15), dt.datetime(2026, 6, 5, 16, 0), "已参加", 60, ""),
    ("xls-005", "c-005", "销售", "西南", dt.datetime(2026, 6, 2, 8, 15), dt.datetime(2026, 6, 5, 16, 0), "缺席", 90, "陈静"),
    ("xls-006", "c-006", "销售", "西南", dt.datetime(2026, 6, 3, 12, 0), dt.datetime(2026, 6, 6, 10, 0), "公司取消", 90, "刘洋"),
]


def main():
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("面试记录")
    sheet.write_merge(0, 0, 0, len(HEADERS) - 1, "2026年 AI 面试记录导出（旧版 .xls）")
    for c, h in enumerate(HEADERS):
        sheet.write(1, c, h)
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    for r, row in enumerate(ROWS, start=2):
        for c, v in enumerate(row):
            if isinstance(v, dt.datetime):
                sheet.write(r, c, v, date)
            else:
                sheet.write(r, c, v)
    book.save("tests/fixtures/hr-export-legacy.xls")

    sample = openpyxl.load_workbook("data/sample-export/面试记录.xlsx")
    ws = sample.active
    ws.delete_rows(8, ws.max_row)
    plain = io.BytesIO()
    sample.save(plain)
    plain.seek(0)
    with open("tests/fixtures/hr-export-encrypted.xlsx", "wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt("noshow", out)


if __name__ == "__main__":
    main()
