"""Names as the catalog splits them into words. Pure functions: no Django, no database.

A name is split into lower-case word tokens at every change of naming style, so
that ``order_items``, ``OrderItems``, ``order-items`` and ``ORDER ITEMS`` all
give the words ``order items`` and the joined key ``orderitems``. The key is what
search's exact and prefix matching compare; the words are what word matching
compares. Every app that declares search documents (its ``search.py``) spells
their names with these, and search reads queries with the same ones.
"""

from __future__ import annotations

import re
from functools import lru_cache

WORD_TOKEN = re.compile(r"[^\W_]+")  # runs of letters and digits; "_" and punctuation separate


def _split_token(token: str) -> list[str]:
    """camelCase, PascalCase, ACRONYMWord and letter/digit boundaries: "HTTPServer2Log" -> http, server, 2, log."""
    parts, start = [], 0
    for i in range(1, len(token)):
        before, here = token[i - 1], token[i]
        if (
            before.isdigit() != here.isdigit()
            or (before.islower() and here.isupper())
            or (before.isupper() and here.isupper() and i + 1 < len(token) and token[i + 1].islower())
        ):
            parts.append(token[start:i])
            start = i
    parts.append(token[start:])
    return [p.lower() for p in parts if p]


def split_words(text: str) -> list[str]:
    """Every word token of a name or a phrase, lower-cased, in order."""
    words: list[str] = []
    for token in WORD_TOKEN.findall(text or ""):
        words.extend(_split_token(token))
    return words


# A catalog repeats its names: 400,000 columns hold some 10,000 distinct names, and every document's path spells
# its source, schema and dataset again. Splitting is the costliest part of writing a document, so the two
# functions that give a str remember the last names they split (both are pure, and a str cannot be changed).
NAMES_REMEMBERED = 1 << 16


@lru_cache(maxsize=NAMES_REMEMBERED)
def name_key(name: str) -> str:
    """The joined form that exact and prefix matching compare: "Order Items" -> "orderitems"."""
    return "".join(split_words(name))


@lru_cache(maxsize=NAMES_REMEMBERED)
def name_words(name: str) -> str:
    """The words of a name as indexed text: its word tokens, then the joined key when it differs."""
    words = split_words(name)
    key = "".join(words)
    if len(words) > 1 and key:
        words.append(key)
    return " ".join(words)
