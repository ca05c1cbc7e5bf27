"""A staff list exported as CSV or XLSX: the columns and rows the record gives (services/intake/lists.py), written
so that spreadsheet programs read the Vietnamese right and never run a citizen's text as a formula."""
from __future__ import annotations

from paht.tables import as_csv, as_xlsx, inert  # noqa: F401  (the staff lists' writers are the kernel's)

EXPORTS = {
    "csv": ("text/csv; charset=utf-8", as_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", as_xlsx),
}
