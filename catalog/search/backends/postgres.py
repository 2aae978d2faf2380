"""PostgreSQL: distinct names through a pattern index (prefixes), a tsvector (words) and pg_trgm (typos); documents of a
name through the (name_key, weight) index; text through the weighted tsvector's partial GIN index, over a bounded scan."""

from __future__ import annotations

from catalog.search.engine import EXACT, LIGHT_FIELDS, PREFIX, WORDS, Filters
from catalog.search.text import ParsedQuery

LIGHT = ", ".join(f"d.{f}" for f in LIGHT_FIELDS)
# The partial GIN index covers documents with text; a query names the same condition to use it.
TEXT_PREDICATE = "d.vector <> ''::tsvector"
# ts_rank's weights for D, C, B, A: names and synonyms, then titles and schemas, descriptions, column names.
RANK_WEIGHTS = "{0.1, 0.4, 0.7, 1.0}"


def _words_query(words: list[str]) -> str:
    """to_tsquery text: every word, the last one also as a prefix when it is long enough to mean something."""
    terms = list(words)
    if terms and len(terms[-1]) >= 2:
        terms[-1] += ":*"
    return " & ".join(terms)


class PostgresBackend:
    def match_names(self, cursor, parsed: ParsedQuery, *, prefix_limit: int, words_limit: int):
        key = parsed.key
        cursor.execute(
            f"""
            SELECT key, words, {EXACT} FROM search_searchname WHERE key = %s
            UNION ALL
            (SELECT key, words, {PREFIX} FROM search_searchname WHERE key LIKE %s AND key <> %s
             ORDER BY length(key), key LIMIT %s)
            UNION ALL
            (SELECT key, words, {WORDS} FROM search_searchname
             WHERE words_vector @@ to_tsquery('simple', %s) AND key NOT LIKE %s
             ORDER BY length(key), key LIMIT %s)
            """,
            [key, key + "%", key, prefix_limit, _words_query(parsed.name_words), key + "%", words_limit],
        )
        return cursor.fetchall()

    def match_typos(self, cursor, parsed: ParsedQuery, *, limit: int, minimum: float):
        # `%` finds names sharing enough trigrams through the GIN index (pg_trgm.similarity_threshold, 0.3 by default).
        cursor.execute(
            """
            SELECT key, words, similarity(key, %s) AS sim FROM search_searchname
            WHERE key %% %s ORDER BY sim DESC, length(key), key LIMIT %s
            """,
            [parsed.key, parsed.key, limit],
        )
        return [row for row in cursor.fetchall() if row[2] >= minimum]

    def fetch_named(self, cursor, limits: dict[str, int], filters: Filters):
        if not limits:
            return []
        where, params = filters.sql("d")
        keys = list(limits)
        cursor.execute(
            f"""
            SELECT {LIGHT}, k.key, NULL FROM unnest(%s::text[], %s::int[]) AS k(key, n)
            CROSS JOIN LATERAL (
                SELECT {LIGHT} FROM search_searchdocument d WHERE d.name_key = k.key{where} ORDER BY d.weight DESC LIMIT k.n
            ) d
            UNION ALL
            SELECT {LIGHT}, a.key, a.name FROM search_searchalias a JOIN search_searchdocument d ON d.id = a.document_id
            WHERE a.key = ANY(%s::text[]){where}
            """,
            [keys, [limits[k] for k in keys], *params, keys, *params],
        )
        return [(row[:-2], row[-2], row[-1]) for row in cursor.fetchall()]

    def match_text(self, cursor, words: list[str], filters: Filters, *, scan: int, keep: int):
        where, params = filters.sql("d")
        terms, term_params = [], []
        for i, word in enumerate(words):
            term = word + (":*" if i == len(words) - 1 and len(word) >= 2 else "")
            terms.append("(to_tsquery('simple', %s) || to_tsquery('english', %s))")
            term_params += [term, term]
        cursor.execute(
            f"""
            WITH q AS (SELECT {' && '.join(terms)} AS query)
            SELECT {", ".join(f"m.{f}" for f in LIGHT_FIELDS)}, ts_rank('{RANK_WEIGHTS}', m.vector, q.query) AS rank
            FROM (SELECT {LIGHT}, d.vector FROM search_searchdocument d, q
                  WHERE {TEXT_PREDICATE} AND d.vector @@ q.query{where} LIMIT %s) m, q
            ORDER BY rank DESC LIMIT %s
            """,
            [*term_params, *params, scan, keep],
        )
        return [(row[:-1], row[-1]) for row in cursor.fetchall()]

    def fetch_display(self, cursor, ids: list[int]):
        cursor.execute(
            "SELECT id, title, subtitle, url, substr(body, 1, 3000), substr(extra, 1, 3000) FROM search_searchdocument "
            "WHERE id = ANY(%s)", [ids])
        return {row[0]: row[1:] for row in cursor.fetchall()}
