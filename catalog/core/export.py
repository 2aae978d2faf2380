"""Lists as CSV: the same rows a page shows, with its filters, streamed so a list of any length downloads.

A cell that a spreadsheet would run as a formula (it starts with =, +, -, @, tab or carriage return) is
written with a leading apostrophe: names and descriptions come from warehouses and people.
"""

from __future__ import annotations

import csv
from typing import Iterable

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> StreamingHttpResponse:
    """A CSV download of `rows` under `header`, as UTF-8 with a byte order mark (spreadsheets then read accents)."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def wants_csv(request) -> bool:
    return request.GET.get("format") == "csv"


def csv_url(request) -> str:
    """This page's URL with its filters and format=csv (for the page's Export link)."""
    params = request.GET.copy()
    params.pop("page", None)
    params["format"] = "csv"
    return f"{request.path}?{params.urlencode()}"
