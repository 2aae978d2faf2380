"""Queries and text as search reads them: parsing, typo similarity, highlighting and snippets. Pure functions:
no Django, no database. Names are split into words by catalog.core.names (re-exported here), the same way
documents spell them."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from catalog.core.names import WORD_TOKEN, name_key, name_words, split_words

__all__ = ["ParsedQuery", "highlight", "name_key", "name_words", "parse_query", "plain", "similarity", "snippet",
           "split_words", "trigrams"]


@dataclass
class ParsedQuery:
    """What a person typed, read for matching.

    ``sales.orders`` qualifies a name: the name part is ``orders``; results whose path
    (source.schema.dataset.column, as keys) ends with ``sales.orders`` keep their tier,
    others with that name drop one.
    """

    text: str
    words: list[str] = field(default_factory=list)  # every word typed, qualifiers included
    key: str = ""  # the joined key of the name part
    name_words: list[str] = field(default_factory=list)  # the words of the name part
    qualifier: str = ""  # for a dotted query, the keys of its parts: "sales.orderitems"

    @property
    def empty(self) -> bool:
        return not self.key

    @property
    def identifier(self) -> bool:
        """Typed as a name: one token of several words (order_items, OrderItems, sales.orders), not a phrase."""
        return len(self.words) > 1 and not any(c.isspace() for c in self.text)


_DOTTED = re.compile(r"^[^\s.]+(?:\.[^\s.]+)+$")


def parse_query(text: str, *, max_chars: int = 200) -> ParsedQuery:
    text = (text or "").replace("\x00", "").strip()[:max_chars]
    parsed = ParsedQuery(text=text, words=split_words(text)[:12])
    if not parsed.words:
        return parsed
    if _DOTTED.match(text):
        parts = [p for p in text.split(".") if split_words(p)]
        parsed.qualifier = ".".join(name_key(p) for p in parts)
        parsed.name_words = split_words(parts[-1])
    else:
        parsed.name_words = list(parsed.words)
    parsed.key = "".join(parsed.name_words)[:200]
    return parsed


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams: each word padded with two spaces before and one after."""
    found: set[str] = set()
    for word in WORD_TOKEN.findall((text or "").lower()):
        padded = f"  {word} "
        found.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return found


def similarity(a: str, b: str) -> float:
    """pg_trgm's similarity(): shared trigrams over all trigrams of the two."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    shared = len(ta & tb)
    return shared / (len(ta) + len(tb) - shared)


# ---------------------------------------------------------------- highlighting


def _term_pattern(terms) -> re.Pattern | None:
    # A term matches where a word starts: after a non-letter, or at a camelCase step ("order" in "bigOrders").
    cleaned = sorted({t.lower() for t in terms if t and len(t) >= 1}, key=len, reverse=True)
    if not cleaned:
        return None
    alternatives = "|".join(re.escape(t) for t in cleaned)
    return re.compile(rf"(?:(?<![^\W_])|(?-i:(?<=[a-z])(?=[A-Z])))(?:{alternatives})", re.IGNORECASE)


def highlight(text: str, terms, *, whole: str = "") -> str:
    """HTML: the text escaped, with each place a term starts a word wrapped in <mark>.

    Matching runs on the raw text and every piece is escaped on its own, so a term can
    never land inside an entity or tag. ``whole`` marks that exact substring as well
    (the name a typo matched, which no typed word spells).
    """
    text = text or ""
    spans: list[tuple[int, int]] = []
    pattern = _term_pattern(terms)
    if pattern is not None:
        spans.extend(m.span() for m in pattern.finditer(text) if m.end() > m.start())
    if whole:
        at = text.lower().find(whole.lower())
        if at >= 0:
            spans.append((at, at + len(whole)))
    if not spans:
        return html.escape(text)
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, position = [], 0
    for start, end in merged:
        out.append(html.escape(text[position:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        position = end
    out.append(html.escape(text[position:]))
    return "".join(out)


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_LINE_MARKUP = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", re.MULTILINE)
_EMPHASIS = re.compile(r"\*\*|(?<!\w)__(?=\w)|(?<=\w)__(?!\w)|`+|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)")


def plain(text: str) -> str:
    """Markdown to one line of plain text, well enough for a snippet: links keep their text, emphasis and
    line markers go; anything else (HTML included) stays as written, to be escaped on display."""
    text = _LINK.sub(lambda m: m.group(1), text or "")
    text = _LINE_MARKUP.sub("", text)
    text = _EMPHASIS.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def snippet(texts, terms, *, width: int = 160) -> str:
    """About `width` characters of plain text around the first place a term occurs (from the first text that has one),
    or the start of the first non-empty text. Not escaped: pass it through highlight()."""
    pattern = _term_pattern(terms)
    candidates = [plain(t) for t in texts if t and t.strip()]
    for text in candidates:
        match = pattern.search(text) if pattern is not None else None
        if match is None:
            continue
        if len(text) <= width:
            return text
        start = max(0, match.start() - width // 3)
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < match.start() else start
        piece = text[start:start + width]
        return ("… " if start else "") + piece + (" …" if start + width < len(text) else "")
    if candidates:
        text = candidates[0]
        return text if len(text) <= width else text[:width].rsplit(" ", 1)[0] + " …"
    return ""
