"""An error as one line fit for a page, a crawl's warnings or a log. Django-free."""

from __future__ import annotations


def one_line(exc: BaseException, *, limit: int = 300, first_line: bool = False) -> str:
    """The message on one line (whitespace collapsed), at most `limit` characters, or the exception's class
    name when it says nothing. first_line: only the message's first line (a driver's detail follows it)."""
    text = str(exc).strip()
    if first_line:
        text = (text.splitlines() or [""])[0]
    text = " ".join(text.split())
    return text[:limit] or exc.__class__.__name__
