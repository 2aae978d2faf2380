"""Answering a query: match names, fetch the best few documents of each, add text matches, rank, count facets.

The plan is the same on both backends (catalog.search.backends has their SQL):

1. Names. The query's joined key is matched against SearchName, one row per distinct
   name: the exact key, then keys it starts, then names holding all its words (the last
   one as a prefix), then, when those find almost nothing, names that look alike
   (trigram similarity: typos). This runs over distinct names, never over documents.
2. Documents of those names: the few best of each name by weight (an index walk, not a
   sort of every column named `id`), plus documents whose synonyms match.
3. Text: descriptions, comments, titles and column names, through the weighted full-text
   index, over a bounded number of matches, best few hundred kept.
4. Ranking, in Python over those few hundred candidates: the tier's base score (exact
   name > prefix > words of the name > similar name > text), how well it matched within
   the tier, and the document's prior weight (certified and much-watched or much-used
   up; deprecated and removed well down, and labelled so).

Facets are counted over the candidates, after the filters: they describe the best
matches, not every document that mentions a common word.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection
from django.utils.module_loading import import_string

from catalog.search.models import SearchDocument
from catalog.search.plan import EXACT, FACETS, LIGHT_FIELDS, PREFIX, TEXT, TYPO, WORDS, Filters
from catalog.search.text import ParsedQuery, highlight, parse_query, snippet

TIER_BASE = {EXACT: 100.0, PREFIX: 80.0, WORDS: 68.0, TYPO: 40.0, TEXT: 36.0}
# How much a better match within a tier adds. Similarity spans more: among names that look alike, the closest
# should win over a merely popular one.
TIER_SPAN = {EXACT: 10.0, PREFIX: 15.0, WORDS: 10.0, TYPO: 30.0, TEXT: 10.0}
TIER_LABELS = {EXACT: "name", PREFIX: "start of the name", WORDS: "words of the name", TYPO: "similar name", TEXT: "text"}
QUALIFIER_MISS = 15.0  # "sales.orders": another schema's orders drops about one tier

PREFIX_NAMES = 30
WORD_NAMES = 30
TYPO_NAMES = 12
TYPO_WHEN_FEWER = 1  # look for similar names only when fewer names than this matched otherwise: none
MIN_SIMILARITY = 0.3
DOCS_PER_EXACT_NAME = 100
DOCS_PER_NAME = 8
TEXT_SCAN = 1000  # text matches examined at most (a common word matches hundreds of thousands)
TEXT_KEEP = 200
KIND_LABELS = dict(SearchDocument.KIND_CHOICES)  # "dataset": "Dataset", as people read a kind
KIND_ORDER = {SearchDocument.METRIC: 0, SearchDocument.DATASET: 1, SearchDocument.COLUMN: 2, SearchDocument.OWNER: 3,
              SearchDocument.TAG: 4}
FACET_VALUES = 12

# PostgreSQL's English stop words (snowball): the text index drops them, so a query must too.
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both but by
can did do does doing don down during each few for from further had has have having he her here hers herself him
himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other
our ours ourselves out over own s same she should so some such t than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which while who whom why will
with you your yours yourself yourselves
""".split())


@dataclass
class Candidate:
    id: int
    kind: str
    object_id: int
    name: str
    name_key: str
    path: str
    source_name: str
    schema_name: str
    owners: str
    tags: str
    status: str
    broken: bool
    weight: float
    dataset_id: int | None
    tier: int = TEXT
    relevance: float = 0.0
    score: float = 0.0
    alias: str = ""  # the synonym it was found by

    @classmethod
    def from_row(cls, row) -> "Candidate":
        return cls(*row[:len(LIGHT_FIELDS)])


@dataclass
class Hit:
    """One ranked result, ready to show: every *_html field is escaped, with matches marked. The results page shows it
    as it is; the API reads it through catalog.search.api.SearchHitSerializer."""

    id: int
    kind: str
    object_id: int
    title: str
    subtitle: str
    url: str
    snippet: str
    title_html: str
    snippet_html: str
    score: float
    tier: str
    status: str
    label: str
    broken: bool
    source: str
    schema: str
    alias: str = ""

    def get_kind_display(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass
class SearchResults:
    query: ParsedQuery
    filters: Filters
    hits: list[Hit] = field(default_factory=list)
    total: int = 0  # candidates ranked (at most a few hundred), after filters
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    elapsed_ms: float = 0.0
    offset: int = 0
    limit: int = 20

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.hits) < self.total


# The SQL for each catalog database, by dotted path: only the one in use is imported (psycopg's for PostgreSQL).
BACKENDS = {"postgresql": "catalog.search.backends.postgres.PostgresBackend",
            "sqlite": "catalog.search.backends.sqlite.SqliteBackend"}


def backend():
    return import_string(BACKENDS["postgresql" if connection.vendor == "postgresql" else "sqlite"])()


def text_words(parsed: ParsedQuery) -> list[str]:
    return [w for w in parsed.words if w not in STOP_WORDS]


def _highlight_terms(parsed: ParsedQuery) -> list[str]:
    """The typed words, and a rough stem of each, so that "orders" also marks "ordered" (the index stems too)."""
    terms = set(parsed.words) | {parsed.key}
    for word in parsed.words:
        for suffix in ("ing", "es", "ed", "s"):
            if len(word) > len(suffix) + 3 and word.endswith(suffix):
                terms.add(word[: -len(suffix)])
                break
    return [t for t in terms if t]


def _score(candidate: Candidate, parsed: ParsedQuery) -> float:
    score = TIER_BASE[candidate.tier] + TIER_SPAN[candidate.tier] * candidate.relevance + candidate.weight
    if parsed.qualifier and candidate.tier != TEXT:
        path = candidate.path
        if not (path == parsed.qualifier or path.endswith("." + parsed.qualifier)):
            score -= QUALIFIER_MISS
    return round(score, 3)


@dataclass(frozen=True)
class Limits:
    """How far each step looks: bounded, whatever the size of the catalog."""

    prefix_names: int = PREFIX_NAMES
    word_names: int = WORD_NAMES
    typo_names: int = TYPO_NAMES
    typo_when_fewer: int = TYPO_WHEN_FEWER
    min_similarity: float = MIN_SIMILARITY
    docs_per_exact_name: int = DOCS_PER_EXACT_NAME
    docs_per_name: int = DOCS_PER_NAME
    text_scan: int = TEXT_SCAN
    text_keep: int = TEXT_KEEP


def _relevance(parsed: ParsedQuery, key: str, words: str, tier: int, similarity: float) -> float:
    """How well a name matched, within its tier, from 0 to 1."""
    if tier == EXACT:
        return 1.0
    if tier == PREFIX:
        return len(parsed.key) / max(len(key), 1)
    if tier == WORDS:
        return min(1.0, len(parsed.name_words) / max(len(words.split()), 1))
    return similarity


def rank(parsed: ParsedQuery, filters: Filters, *, text: bool = True, typing: bool = False,
         limits: Limits = Limits()) -> list[Candidate]:
    """Every candidate for the query, best first: a few hundred at most, found in one statement on PostgreSQL.
    `typing`: the query is still being typed (suggestions), so its last word also matches text as a prefix."""
    words = text_words(parsed) if text else []
    with connection.cursor() as cursor:
        named, texts = backend().candidates(cursor, parsed, filters, text_words=words, limits=limits, typing=typing)
    found: dict[int, Candidate] = {}
    for light, key, name_words_, tier, similarity, alias in named:
        candidate = Candidate.from_row(light)
        candidate.tier, candidate.relevance = tier, _relevance(parsed, key, name_words_ or "", tier, similarity or 0.0)
        candidate.alias = alias or ""
        candidate.score = _score(candidate, parsed)
        previous = found.get(candidate.id)
        if previous is None or candidate.score > previous.score:
            found[candidate.id] = candidate
    top = max((abs(r) for _, r in texts), default=0.0) or 1.0
    for light, rank_value in texts:
        candidate = Candidate.from_row(light)
        candidate.tier, candidate.relevance = TEXT, abs(rank_value) / top
        candidate.score = _score(candidate, parsed)
        previous = found.get(candidate.id)
        if previous is None or candidate.score > previous.score:
            found[candidate.id] = candidate
    return sorted(found.values(), key=lambda c: (-c.score, KIND_ORDER.get(c.kind, 9), len(c.name), c.name, c.id))


def _facets(candidates: list[Candidate]) -> dict[str, list[tuple[str, int]]]:
    counters = {name: Counter() for name in FACETS}
    for c in candidates:
        counters["kind"][c.kind] += 1
        if c.source_name:
            counters["source"][c.source_name] += 1
        if c.schema_name:
            counters["schema"][c.schema_name] += 1
        for owner in c.owners.strip("|").split("|") if c.owners else ():
            counters["owner"][owner] += 1
        for tag in c.tags.strip("|").split("|") if c.tags else ():
            counters["tag"][tag] += 1
        counters["status"][c.status] += 1
    return {name: sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_VALUES] for name, counter in counters.items()}


def search(query: str, *, filters: Filters | None = None, limit: int = 20, offset: int = 0, text: bool = True,
           facets: bool = True, typing: bool = False) -> SearchResults:
    """The ranked results of a query, one page of them with display fields, and facet counts."""
    started = time.perf_counter()
    parsed = parse_query(query)
    filters = filters or Filters()
    results = SearchResults(query=parsed, filters=filters, offset=offset, limit=limit)
    if parsed.empty:
        return results
    candidates = rank(parsed, filters, text=text, typing=typing)
    results.total = len(candidates)
    if facets:
        results.facets = _facets(candidates)
    page = candidates[offset:offset + limit]
    if page:
        with connection.cursor() as cursor:
            display = backend().fetch_display(cursor, [c.id for c in page])
        terms = _highlight_terms(parsed)
        for c in page:
            title, subtitle, url, body, extra = display.get(c.id, (c.name, "", "", "", ""))
            whole = c.name if c.tier in (EXACT, TYPO) and not c.alias else ""
            text_snippet = snippet([body, extra], terms + ([c.alias] if c.alias else []) + ([c.name] if whole else []))
            if c.alias:
                subtitle = f"{subtitle} · also called {c.alias}"
            label = c.status if c.status in (SearchDocument.REMOVED, "deprecated", "certified") else ""
            results.hits.append(Hit(
                id=c.id, kind=c.kind, object_id=c.object_id, title=title, subtitle=subtitle, url=url, snippet=text_snippet,
                title_html=highlight(title, terms, whole=whole), snippet_html=highlight(text_snippet, terms, whole=whole),
                score=c.score, tier=TIER_LABELS[c.tier], status=c.status, label=label, broken=c.broken, source=c.source_name,
                schema=c.schema_name, alias=c.alias,
            ))
    results.elapsed_ms = (time.perf_counter() - started) * 1000
    return results
