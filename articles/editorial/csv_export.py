"""CSV downloads that are safe to open in a spreadsheet.

Text that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by spreadsheet
programs as a formula (CSV injection: `=HYPERLINK(...)`, `@SUM(...)`, DDE payloads). Every text
cell is written with a leading apostrophe in that case, which spreadsheets show as plain text.
Numbers are written as they are. The download's file name is reduced to a safe set of
characters, so a title carrying `\\r\\n` or quotes can never add a header or break out of the
`Content-Disposition` value.

An admin action adopts it in a few lines:

    return csv_response("import-failures", ["position", "message"], rows)
"""

import csv
import datetime
import decimal
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_FILENAME = 100
_UNSAFE_FILENAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet should receive it: formula-like text is made literal."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | decimal.Decimal | datetime.date):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def write_csv(output, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    writer = csv.writer(output)
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])


def safe_filename(name: str, extension: str = "csv") -> str:
    """`name` reduced to letters, digits, dot, dash and underscore, with the extension."""
    stem = _UNSAFE_FILENAME_CHARACTERS.sub("-", str(name)).strip(".-_")[:MAX_FILENAME]
    return f"{stem or 'export'}.{extension}"


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]):
    """An attachment download of the rows as UTF-8 CSV (with a BOM, for spreadsheet programs)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    response.write("\ufeff")
    write_csv(response, header, rows)
    return response
