"""SQLite (the embedded default): names by key range (prefixes) and an FTS5 table of their words; typos through an FTS5
trigram table of names, re-scored with pg_trgm's similarity; text through FTS5 with bm25 weights per field."""

from __future__ import annotations

from catalog.search.plan import EXACT, LIGHT_FIELDS, PREFIX, TEXT_PREFIX_MIN, TYPO, WORDS, Filters
from catalog.search.text import ParsedQuery, similarity

LIGHT = ", ".join(f"d.{f}" for f in LIGHT_FIELDS)
# bm25 weights of keywords (names, synonyms), context (titles, schemas), body (descriptions, comments), extra (column names).
BM25 = "bm25(search_fts, 10.0, 4.0, 2.0, 1.0)"
HIGHEST = "\U0010ffff"  # sorts after every character a key can hold: key >= 'cust' AND key < 'cust' + HIGHEST is a prefix


def _fts_words(words: list[str], shortest_prefix: int = 2) -> str:
    """An FTS5 query: every word, the last also as a prefix when it is at least `shortest_prefix` long."""
    terms = [f'"{w}"' for w in words]
    if terms and len(words[-1]) >= shortest_prefix:
        terms[-1] += "*"
    return " AND ".join(terms)


class SqliteBackend:
    """In-process: a round trip costs nothing, so each step is its own statement, and the typo step re-scores in Python."""

    def candidates(self, cursor, parsed: ParsedQuery, filters: Filters, *, text_words: list[str], limits, typing=False):
        names = [(key, words, tier, 1.0) for key, words, tier in
                 self.match_names(cursor, parsed, prefix_limit=limits.prefix_names, words_limit=limits.word_names)]
        # A name typed as a name (order_items, OrderItems, sales.orders) that matched names needs no text search.
        texts = []
        if text_words and not (parsed.identifier and names):
            texts = self.match_text(cursor, text_words, filters, scan=limits.text_scan, keep=limits.text_keep, typing=typing)
        # Similar names only when nothing else matched: when the words are in some description, they are what was meant.
        if (len(parsed.key) >= 3 and not any(tier == EXACT for _, _, tier, _ in names)
                and len(names) < limits.typo_when_fewer and not texts):
            names += [(key, words, TYPO, sim) for key, words, sim in
                      self.match_typos(cursor, parsed, limit=limits.typo_names, minimum=limits.min_similarity)]
        by_key = {}
        for key, words, tier, sim in names:
            by_key.setdefault(key, (words, tier, sim))
        doc_limits = {key: limits.docs_per_exact_name if tier == EXACT else limits.docs_per_name for key, (_, tier, _) in by_key.items()}
        named = [(light, key, *by_key[key], alias) for light, key, alias in self.fetch_named(cursor, doc_limits, filters)]
        return named, texts

    def match_names(self, cursor, parsed: ParsedQuery, *, prefix_limit: int, words_limit: int):
        key = parsed.key
        cursor.execute(
            f"""
            SELECT key, words, {EXACT} FROM search_searchname WHERE key = %s
            UNION ALL
            SELECT * FROM (SELECT key, words, {PREFIX} FROM search_searchname WHERE key > %s AND key < %s
                           ORDER BY length(key), key LIMIT %s)
            UNION ALL
            SELECT * FROM (SELECT n.key, n.words, {WORDS} FROM search_name_fts f JOIN search_searchname n ON n.id = f.rowid
                           WHERE search_name_fts MATCH %s AND NOT (n.key >= %s AND n.key < %s)
                           ORDER BY length(n.key), n.key LIMIT %s)
            """,
            [key, key, key + HIGHEST, prefix_limit, _fts_words(parsed.name_words), key, key + HIGHEST, words_limit],
        )
        return cursor.fetchall()

    def match_typos(self, cursor, parsed: ParsedQuery, *, limit: int, minimum: float):
        """Names holding every typed word but one, else names sharing trigrams; re-scored with pg_trgm's similarity."""
        key = parsed.key
        words = list(dict.fromkeys(parsed.name_words))
        if len(words) >= 2:
            query = " OR ".join("(" + " AND ".join(f'"{w}"' for j, w in enumerate(words) if j != i) + ")" for i in range(len(words)))
            cursor.execute("SELECT n.key, n.words FROM search_name_fts f JOIN search_searchname n ON n.id = f.rowid "
                           "WHERE search_name_fts MATCH %s LIMIT 2000", [query])
            scored = sorted(((k, w, similarity(k, key)) for k, w in cursor.fetchall()), key=lambda row: (-row[2], len(row[0]), row[0]))
            scored = [row for row in scored if row[2] >= minimum][:limit]
            if scored:
                return scored
        grams = sorted({key[i:i + 3] for i in range(len(key) - 2)})
        if not grams:
            return []
        cursor.execute(
            "SELECT n.key, n.words FROM search_name_trigram t JOIN search_searchname n ON n.id = t.rowid "
            "WHERE search_name_trigram MATCH %s ORDER BY t.rank LIMIT 300",
            [" OR ".join(f'"{g}"' for g in grams)],
        )
        scored = [(k, words, similarity(k, key)) for k, words in cursor.fetchall()]
        scored = [row for row in scored if row[2] >= minimum]
        scored.sort(key=lambda row: (-row[2], len(row[0]), row[0]))
        return scored[:limit]

    def fetch_named(self, cursor, limits: dict[str, int], filters: Filters):
        if not limits:
            return []
        where, params = filters.sql("d")
        keys = list(limits)
        marks = ", ".join(["%s"] * len(keys))
        cursor.execute(
            f"""
            SELECT * FROM (
                SELECT {LIGHT}, d.name_key AS matched, NULL AS alias,
                       row_number() OVER (PARTITION BY d.name_key ORDER BY d.weight DESC, d.id) AS position
                FROM search_searchdocument d WHERE d.name_key IN ({marks}){where}
            ) WHERE position <= %s
            UNION ALL
            SELECT {LIGHT}, a.key, a.name, 1 FROM search_searchalias a JOIN search_searchdocument d ON d.id = a.document_id
            WHERE a.key IN ({marks}){where}
            """,
            [*keys, *params, max(limits.values()), *keys, *params],
        )
        found = []
        for row in cursor.fetchall():
            *light, matched, alias, position = row
            if alias or position <= limits.get(matched, 0):
                found.append((tuple(light), matched, alias))
        return found

    def match_text(self, cursor, words: list[str], filters: Filters, *, scan: int, keep: int, typing: bool = False):
        where, params = filters.sql("d")
        cursor.execute(
            f"""
            SELECT {LIGHT}, {BM25} AS rank FROM search_fts JOIN search_searchdocument d ON d.id = search_fts.rowid
            WHERE search_fts MATCH %s{where} ORDER BY rank LIMIT %s
            """,
            [_fts_words(words, TEXT_PREFIX_MIN if typing else 10 ** 6), *params, keep],
        )
        return [(row[:-1], row[-1]) for row in cursor.fetchall()]

    def fetch_display(self, cursor, ids: list[int]):
        marks = ", ".join(["%s"] * len(ids))
        cursor.execute(
            f"SELECT id, title, subtitle, url, substr(body, 1, 3000), substr(extra, 1, 3000) FROM search_searchdocument "
            f"WHERE id IN ({marks})", ids)
        return {row[0]: row[1:] for row in cursor.fetchall()}
