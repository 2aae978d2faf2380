"""PostgreSQL: one statement finds every candidate, because each round trip costs more than the work on a busy server.

Names: the exact key, keys it starts (a varchar_pattern_ops index), names holding all
the words (a GIN tsvector), and only when nothing matched, names that look alike: those
holding all the words but one, by similarity, else pg_trgm's `%` through a GIN trigram
index - all over distinct names. Then the
few best documents of each name by weight (the (name_key, weight) index, LATERAL), the
documents whose synonyms match, and the text matches (the weighted tsvector's partial
GIN index, over a bounded scan, ts_rank'ed).
"""

from __future__ import annotations

import time

import psycopg
from django.conf import settings

from catalog.search.plan import EXACT, LIGHT_FIELDS, PREFIX, TEXT, TEXT_PREFIX_MIN, TYPO, WORDS, Filters
from catalog.search.text import ParsedQuery

LIGHT = ", ".join(f"d.{f}" for f in LIGHT_FIELDS)
# The partial GIN index covers documents with text; a query names the same condition to use it. Every field is read
# with the English configuration (stemmed, stop words dropped), so one lexeme per typed word is looked up.
TEXT_PREDICATE = "d.vector <> ''::tsvector"
# ts_rank's weights for D, C, B, A: names and synonyms, then titles and schemas, descriptions, column names.
RANK_WEIGHTS = "{0.1, 0.4, 0.7, 1.0}"

# The indexes a full rebuild drops before loading and builds again after (faster than growing them row by row), as
# migration 0002 made them; fastupdate off (migration 0003) so searches never scan a pending list.
REBUILT_INDEXES = {
    "search_doc_vector": "CREATE INDEX search_doc_vector ON search_searchdocument USING gin (vector) WITH (fastupdate = off) "
                         "WHERE vector <> ''::tsvector",
    "search_name_words": "CREATE INDEX search_name_words ON search_searchname USING gin (words_vector) WITH (fastupdate = off)",
    "search_name_trigram": "CREATE INDEX search_name_trigram ON search_searchname USING gin (key gin_trgm_ops) "
                           "WITH (fastupdate = off)",
    "search_name_prefix": "CREATE INDEX search_name_prefix ON search_searchname (key varchar_pattern_ops)",
}


def _prefixed(word: str, shortest: int = 2) -> str:
    return word + ":*" if len(word) >= shortest else word


def _words_query(words: list[str]) -> str:
    """to_tsquery text: every word, the last one also as a prefix when it is long enough to mean something."""
    return " & ".join(words[:-1] + [_prefixed(words[-1])]) if words else ""


def _all_but_one(words: list[str]) -> str:
    """to_tsquery text for names holding every typed word but (at most) one: where a typo in one word of a long name
    hides. Far fewer names than share trigrams with it, so similarity is computed for few. Empty for one word."""
    words = list(dict.fromkeys(words))
    if len(words) < 2:
        return ""
    return " | ".join("(" + " & ".join(w for j, w in enumerate(words) if j != i) + ")" for i in range(len(words)))


# Sorts after every character a key can hold: key ~>=~ 'cust' AND key ~<~ 'cust' || HIGHEST is a prefix range, which
# (unlike LIKE with a parameter) a generic, reusable plan can answer from the varchar_pattern_ops index.
HIGHEST = "\U0010ffff"


def _execute_prepared(cursor, sql: str, params: dict) -> list[tuple]:
    """Run the candidate statement as a server-side prepared statement and return its rows.

    PostgreSQL then plans it once per connection and shape (filters, text or not) instead of on every query: planning
    this statement costs more than running it. Django's cursors bind parameters on the client and never prepare, so
    this one statement goes through a psycopg cursor with server-side binding on the same connection (same
    transaction), and is logged where Django logs queries, so query counts stay honest. Behind a connection pooler
    that cannot keep prepared statements (PgBouncer in transaction mode before 1.21), set CANON_SEARCH_PREPARE=false.
    """
    raw = cursor.cursor.connection
    prepare = settings.CANON_SEARCH_PREPARE
    if prepare and not getattr(raw, "_canon_generic_plans", False):
        # Django turns psycopg's statement preparation off (prepare_threshold None); its client-binding cursors never
        # prepare whatever the setting, so turning it on here changes nothing but this statement. The plan depends
        # on the values only through estimates: one generic plan serves every query.
        raw.prepare_threshold = 5
        raw.execute("SET plan_cache_mode = force_generic_plan")
        raw._canon_generic_plans = True
    started = time.monotonic()
    with psycopg.Cursor(raw) as server:
        server.execute(sql, params, prepare=prepare or None)
        rows = server.fetchall()
    db = cursor.db
    if db.queries_logged:
        db.queries_log.append({"sql": f"EXECUTE (prepared) {sql}", "time": f"{time.monotonic() - started:.3f}"})
    return rows


class PostgresBackend:
    def candidates(self, cursor, parsed: ParsedQuery, filters: Filters, *, text_words: list[str], limits, typing=False):
        where, params = filters.sql("d", named=True)
        params.update({
            "key": parsed.key, "low": parsed.key, "high": parsed.key + HIGHEST, "words": _words_query(parsed.name_words),
            "prefix_limit": limits.prefix_names, "words_limit": limits.word_names, "typo_limit": limits.typo_names,
            "typo_when": limits.typo_when_fewer, "typos": len(parsed.key) >= 3, "min_sim": limits.min_similarity,
            "exact_docs": limits.docs_per_exact_name, "docs": limits.docs_per_name, "scan": limits.text_scan,
            "keep": limits.text_keep, "all_but_one": _all_but_one(parsed.name_words),
        })
        texted, text_branch, no_text = "", "", "TRUE"
        if text_words:
            params["text"] = " & ".join(text_words[:-1] + [_prefixed(text_words[-1], TEXT_PREFIX_MIN) if typing else text_words[-1]])
            # A name typed as a name (order_items, OrderItems, sales.orders) that matched names needs no text search.
            params["identifier"] = parsed.identifier
            # Text matches first: when the words are in some description, similar names are not what was meant.
            texted = f""", texted AS (
                SELECT {", ".join(f"m.{f}" for f in LIGHT_FIELDS)}, ts_rank('{RANK_WEIGHTS}', m.vector, m.query) AS rank
                FROM (SELECT {LIGHT}, d.vector, q.query FROM search_searchdocument d,
                             (SELECT to_tsquery('english', %(text)s) AS query) q
                      WHERE (NOT %(identifier)s OR NOT EXISTS (SELECT 1 FROM found))
                        AND {TEXT_PREDICATE} AND d.vector @@ q.query{where} LIMIT %(scan)s) m
                ORDER BY rank DESC LIMIT %(keep)s
            )"""
            text_branch = f"""
            UNION ALL
            SELECT {", ".join(f"t.{f}" for f in LIGHT_FIELDS)}, NULL, NULL, {TEXT}, NULL, NULL, t.rank FROM texted t"""
            no_text = "NOT EXISTS (SELECT 1 FROM texted)"
        rows = _execute_prepared(
            cursor,
            f"""
            WITH exact AS (
                SELECT key, words, {EXACT} AS tier, 1.0::float8 AS sim FROM search_searchname WHERE key = %(key)s
            ), prefixed AS (
                SELECT key, words, {PREFIX} AS tier, 1.0::float8 AS sim FROM search_searchname
                WHERE key::text ~>~ %(low)s AND key::text ~<~ %(high)s ORDER BY length(key), key LIMIT %(prefix_limit)s
            ), worded AS (
                SELECT key, words, {WORDS} AS tier, 1.0::float8 AS sim FROM search_searchname
                WHERE words_vector @@ to_tsquery('simple', %(words)s) AND NOT (key::text ~>=~ %(low)s AND key::text ~<~ %(high)s)
                ORDER BY length(key), key LIMIT %(words_limit)s
            ), found AS (
                SELECT * FROM exact UNION ALL SELECT * FROM prefixed UNION ALL SELECT * FROM worded
            ){texted}, typo_gate AS (
                SELECT %(typos)s AND NOT EXISTS (SELECT 1 FROM exact) AND (SELECT count(*) FROM found) < %(typo_when)s
                       AND {no_text} AS open
            ), alike_words AS (
                SELECT key, words, {TYPO} AS tier, similarity(key, %(key)s)::float8 AS sim FROM search_searchname
                WHERE (SELECT open FROM typo_gate) AND %(all_but_one)s <> '' AND words_vector @@ to_tsquery('simple', %(all_but_one)s)
                ORDER BY 4 DESC, length(key), key LIMIT %(typo_limit)s
            ), alike AS (
                SELECT * FROM alike_words
                UNION ALL
                (SELECT key, words, {TYPO} AS tier, similarity(key, %(key)s)::float8 AS sim FROM search_searchname
                 WHERE (SELECT open FROM typo_gate) AND NOT EXISTS (SELECT 1 FROM alike_words WHERE sim >= %(min_sim)s)
                   AND key %% %(key)s
                 ORDER BY 4 DESC, length(key), key LIMIT %(typo_limit)s)
            ), names AS (
                SELECT * FROM found UNION ALL SELECT * FROM alike WHERE sim >= %(min_sim)s
            )
            SELECT {LIGHT}, n.key, n.words, n.tier, n.sim, NULL::text, NULL::float8
            FROM names n CROSS JOIN LATERAL (
                SELECT {LIGHT} FROM search_searchdocument d WHERE d.name_key = n.key{where}
                ORDER BY d.weight DESC LIMIT CASE WHEN n.tier = {EXACT} THEN %(exact_docs)s ELSE %(docs)s END
            ) d
            UNION ALL
            SELECT {LIGHT}, n.key, n.words, n.tier, n.sim, a.name, NULL
            FROM names n JOIN search_searchalias a ON a.key = n.key JOIN search_searchdocument d ON d.id = a.document_id
            WHERE TRUE{where}{text_branch}
            """,
            params,
        )
        named, texts = [], []
        width = len(LIGHT_FIELDS)
        for row in rows:
            light, (key, words, tier, similarity, alias, rank) = row[:width], row[width:]
            if tier == TEXT:
                texts.append((light, rank))
            else:
                named.append((light, key, words, tier, similarity, alias))
        return named, texts

    def fetch_display(self, cursor, ids: list[int]):
        cursor.execute(
            "SELECT id, title, subtitle, url, substr(body, 1, 3000), substr(extra, 1, 3000) FROM search_searchdocument "
            "WHERE id = ANY(%s)", [ids])
        return {row[0]: row[1:] for row in cursor.fetchall()}
