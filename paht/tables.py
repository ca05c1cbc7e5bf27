"""Tables written as CSV or XLSX so that spreadsheet programs read the Vietnamese right and never run a citizen's
text as a formula: the staff lists' exports (services/gateway) and `paht rules replay`'s differences."""
from __future__ import annotations

import csv
import io

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """A cell a spreadsheet shows as text, never runs: text a citizen wrote may start like a formula."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def as_csv(columns: list[str], rows: list[list]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Vietnamese right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([["" if v is None else inert(v) for v in r] for r in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(columns: list[str], rows: list[list], title: str = "Phản ánh",
            sheets: list[tuple[str, list[str], list[list]]] = ()) -> bytes:
    """One sheet `title` of `columns` and `rows`, then each of `sheets` (title, columns, rows)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook()
    for index, (name, heads, values_of) in enumerate([(title, columns, rows), *sheets]):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = name
        sheet.append(heads)
        for values in values_of:   # control characters a citizen's text may hold cannot be in a sheet: left out
            sheet.append([None if v == "" else ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
                          for v in values])
            for cell in sheet[sheet.max_row]:
                if cell.data_type == "f":   # openpyxl reads text starting with "=" as a formula: keep it text
                    cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
