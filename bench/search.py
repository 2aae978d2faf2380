"""Search over a large catalog on PostgreSQL: index build, query latency, ranking quality, and the page under load.

    .venv/bin/python bench/search.py --datasets 100000 --columns 2000000

One run starts a throwaway PostgreSQL (tests.harness.PostgresServer), migrates a
catalog database, and builds with COPY a catalog like a large company's warehouse:
datasets named from a business vocabulary (stg_/dim_/fct_ prefixes, entities,
_daily/_history suffixes; most names unique, some repeated across schemas),
columns drawn from shared pools (so `customer_id` appears in thousands of
tables) plus rare ones, descriptions and comments on some, metric definitions
(certified, draft, deprecated; titles, synonyms, tags) reading some datasets,
watchers and views. Then it:

- builds the index with `search_rebuild` (what `manage.py reindex` runs);
- runs its query set (exact names, qualified names, prefixes, typos, description
  words, metric words and synonyms, column names), each with the one result a
  person would want first; one warm-up pass, then the measured pass;
- serves the results page with gunicorn (persistent database connections, as in
  production) and loads it from a bounded pool of concurrent clients on loopback.

Progress lines go to stdout; the line before last gives the page load figures,

    page clients=.. loads=.. errors=.. rps=.. p50_ms=.. p95_ms=.. p99_ms=.. index_s=..

and the LAST line is, exactly:

    search docs=.. p50_ms=.. p95_ms=.. p99_ms=.. mrr=..
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import PostgresServer, free_port, wait_for_port  # noqa: E402

SCHEMA_WORDS = ["sales", "finance", "marketing", "product", "growth", "hr", "ops", "logistics", "support", "billing", "risk",
                "analytics", "core", "crm", "web", "mobile", "ads", "inventory", "payments", "legal", "security", "ml",
                "reporting", "partners", "procurement", "fulfilment", "pricing", "loyalty", "compliance", "treasury"]
SCHEMA_SUFFIXES = ["", "_eu", "_us", "_apac"]
PREFIXES = ["", "stg_", "raw_", "dim_", "fct_", "int_", "agg_", "snap_", "mart_", "tmp_"]
ENTITIES = """customer order order_item payment invoice refund shipment product price discount coupon session pageview click
impression campaign lead account contact opportunity subscription plan user employee department ticket ticket_comment survey
review rating inventory_level warehouse supplier purchase_order return chargeback fraud_score loan transaction ledger_entry
budget forecast experiment variant feature_flag device app_install notification email_send email_open store region country
currency_rate tax_rate carrier route delivery driver vehicle basket wishlist search_query recommendation cohort segment
attribution touchpoint invoice_line credit_note payout settlement dispute merchant terminal card wallet voucher gift_card
referral affiliate commission contract renewal quote proposal meeting call chat_message agent shift timesheet payroll
benefit claim policy premium underwriting asset license vendor sku bundle category brand catalog listing promotion banner
newsletter unsubscribe bounce complaint consent cookie login password_reset api_key webhook job_run pipeline model_score
feature_value label annotation""".split()
SUFFIXES = ["", "", "", "_daily", "_weekly", "_monthly", "_history", "_snapshot", "_v2", "_latest", "_summary", "_by_region",
            "_by_day", "_enriched", "_2023", "_2024"]
ATTRIBUTES = """amount status currency country_code email phone name description created_at updated_at deleted_at loaded_at
quantity unit_price total tax discount_amount is_active is_deleted source channel platform version score rank notes
city postal_code address_line1 address_line2 latitude longitude started_at ended_at duration_seconds first_seen_at
last_seen_at category subcategory label type code reference external_id batch_id checksum priority owner_email
region_code language timezone utm_source utm_medium utm_campaign referrer user_agent ip_address revenue cost margin
balance limit_amount interest_rate due_date paid_at settled_at approved_at rejected_reason risk_level segment tier
count value weight height width color size""".split()
RARE_WORDS = """iban bic swift gdpr erasure ccpa kyc aml sanctions pep vat hsn gtin ean upc isbn mcc arn rrn stan avs cvv
threeds sca psd2 hmac jwt oauth saml scim ldap mfa totp webauthn fido sepa ach bacs fps pix upi mpesa klarna afterpay""".split()
SYSTEMS = ["Salesforce", "Stripe", "Zendesk", "HubSpot", "Segment", "the ERP", "the app backend", "Google Ads", "Shopify", "Workday"]
TEAMS = ["data platform", "finance analytics", "growth", "revenue operations", "product analytics", "people analytics"]
GRAINS = ["day", "week", "month", "event", "customer", "order", "session"]
# Code names are the distinctive words some descriptions carry: "the Nimbus migration".
SYLLABLES = ["ka", "lo", "mi", "zu", "ra", "ven", "tor", "qui", "dax", "sel", "mor", "pha", "gri", "nox", "tel", "bri", "cas",
             "dor", "fen", "hal", "jor", "lum", "nev", "orn", "pel", "ros", "sul", "tam", "vor", "wyn"]
PERIODS = ["daily", "weekly", "monthly", "quarterly", "annual", "rolling_7d", "rolling_28d", "trailing_12m", "ytd", "mtd"]
MEASURES = """active_users active_customers revenue net_revenue gross_revenue orders signups churn_rate retention_rate
refunds refund_rate conversion_rate average_order_value gross_margin contribution_margin new_customers returning_customers
sessions pageviews bounce_rate cart_abandonment_rate ticket_volume first_response_time resolution_time csat nps
payroll_cost headcount attrition_rate cost_per_acquisition return_on_ad_spend lifetime_value arpu mrr arr
delivery_time on_time_delivery_rate inventory_turnover stockout_rate fraud_rate chargeback_rate""".split()
SYNONYMS = {"active_users": "engaged_users", "churn_rate": "attrition", "revenue": "turnover", "mrr": "monthly_recurring_revenue",
            "arr": "annual_recurring_revenue", "nps": "net_promoter_score", "csat": "customer_satisfaction",
            "arpu": "revenue_per_user", "lifetime_value": "ltv", "average_order_value": "aov", "headcount": "fte",
            "return_on_ad_spend": "roas"}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def setup_django(catalog_url: str) -> dict:
    from cryptography.fernet import Fernet

    env = {
        "DATABASE_URL": catalog_url, "CANON_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        # A PostgreSQL catalog with DEBUG off is a production start: it needs a secret key, and the load
        # test reads pages anonymously over plain HTTP.
        "SECRET_KEY": Fernet.generate_key().decode(), "CANON_REQUIRE_LOGIN": "false", "SECURE_SSL_REDIRECT": "false",
        "CANON_VAR_DIR": __import__("tempfile").mkdtemp(prefix="canon-bench-var-"), "DJANGO_SETTINGS_MODULE": "catalog.settings",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return env


# ---------------------------------------------------------------- the catalog


@dataclass
class Built:
    datasets: list[tuple[int, str, str]]  # (id, schema, name), in id order
    name_count: Counter
    column_names: Counter  # how many tables hold each column name
    rare_columns: list[tuple[int, str, str, str]]  # (column id, dataset name, schema, column name) of names held once
    coded: list[tuple[int, str, str, str]]  # (dataset id, code word, entity words, schema) of described datasets
    metrics: list[tuple[int, str, str, str]]  # (id, name, title, status)
    synonyms: list[tuple[int, str]]  # (definition id, synonym)


def _code_words(rng: random.Random, count: int) -> list[str]:
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(3)))
    return sorted(words)


def _dataset_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(schema, name) pairs, unique as pairs: most names unique, some repeated in several schemas."""
    schemas = [w + s for w in SCHEMA_WORDS for s in SCHEMA_SUFFIXES]
    seen: set[tuple[str, str]] = set()
    names: list[tuple[str, str]] = []
    popular = [f"{p}{e}{s}" for p in PREFIXES[:5] for e in ENTITIES[:40] for s in SUFFIXES[:6]]
    while len(names) < count:
        schema = rng.choice(schemas)
        if rng.random() < 0.15:
            name = rng.choice(popular)  # the same well-known name in many schemas
        else:
            entity = rng.choice(ENTITIES)
            if rng.random() < 0.6:
                entity += "_" + rng.choice(ENTITIES)
            name = f"{rng.choice(PREFIXES)}{entity}{rng.choice(SUFFIXES)}"
            if rng.random() < 0.3:
                name += f"_{rng.choice(ATTRIBUTES)}"
        if (schema, name) not in seen:
            seen.add((schema, name))
            names.append((schema, name))
    return names


def build_catalog(datasets: int, columns: int, seed: int = 7) -> Built:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from catalog.alerts.models import Subscription
    from catalog.core.bulk import insert_rows, insert_rows_returning_ids
    from catalog.inventory.models import Column, Dataset, OwnerIdentity
    from catalog.lineage.models import LineageEdge
    from catalog.metrics.models import MetricDatasetUse, MetricDefinition, MetricSynonym, MetricTag
    from catalog.sources.services import source_create

    rng = random.Random(seed)
    now = timezone.now()
    sources = [source_create(name=n, url=f"postgresql://reader:unused@127.0.0.1:1/{n}") for n in ("warehouse", "lake", "crm")]
    owners = []
    for source in sources:
        for team in ("sales", "finance", "marketing", "product", "data_platform", "ops", "support", "risk"):
            owners.append(OwnerIdentity(source=source, name=f"{team}_team"))
    owners = OwnerIdentity.objects.bulk_create(owners)
    owners_by_source = defaultdict(list)
    for owner in owners:
        owners_by_source[owner.source_id].append(owner.pk)

    pairs = _dataset_names(rng, datasets)
    code_words = _code_words(rng, max(1, datasets // 200))
    per_table = max(1, columns // max(datasets, 1))
    extra_columns = columns - per_table * datasets
    dataset_rows, plan = [], []
    coded_plan: dict[int, str] = {}
    code_iter = iter(code_words)
    for i, (schema, name) in enumerate(pairs):
        source = sources[0] if i % 10 < 7 else sources[1 + i % 2]
        entity = name
        for prefix in PREFIXES:
            if prefix and entity.startswith(prefix):
                entity = entity[len(prefix):]
        words = entity.replace("_", " ")
        description = ""
        roll = rng.random()
        if i % 200 == 0:
            code = next(code_iter, "")
            if code:
                coded_plan[i] = code
                description = (f"Built for the {code.capitalize()} programme: one row per {rng.choice(GRAINS)} of {words}, "
                               f"reconciled nightly against {rng.choice(SYSTEMS)}.")
        elif roll < 0.3:
            description = (f"One row per {rng.choice(GRAINS)} of {words}, loaded from {rng.choice(SYSTEMS)} by the "
                           f"{rng.choice(TEAMS)} team. See the runbook before changing it.")
        comment = f"{words.capitalize()} from {rng.choice(SYSTEMS)}" if rng.random() < 0.2 else ""
        n_columns = per_table + (1 if i < extra_columns else 0)
        dataset_rows.append((source.pk, schema, name, "view" if rng.random() < 0.1 else "table", str(100000 + i), comment,
                             description, "", rng.choice(owners_by_source[source.pk]), rng.randrange(10 ** 7), None,
                             n_columns, {}, [], f"fp{i}", now, now, None))
        plan.append(n_columns)

    fields = ("source_id", "schema_name", "name", "kind", "native_id", "comment", "description", "definition", "owner_id",
              "row_estimate", "size_bytes", "column_count", "properties", "warnings", "fingerprint", "first_seen_at",
              "last_changed_at", "last_modified_at")
    started = time.perf_counter()
    ids = insert_rows_returning_ids(Dataset, fields, dataset_rows)
    log(f"datasets: {len(ids):,} in {time.perf_counter() - started:.1f}s")
    del dataset_rows

    common_ids = [f"{e}_id" for e in ENTITIES[:60]]
    rare_pool = [f"{a}_{b}" for a in RARE_WORDS for b in ("hash", "token", "ref", "status", "checked_at", "flag", "code")]
    rng.shuffle(rare_pool)
    rare_iter = iter(rare_pool)
    column_names: Counter = Counter()

    def column_rows():
        for dataset_id, (schema, name), n_columns in zip(ids, pairs, plan):
            chosen = ["id"]
            own = name.split("_")[1] if name.startswith(tuple(p for p in PREFIXES if p)) and "_" in name else name.split("_")[0]
            if n_columns > 1:
                chosen.append(f"{own}_id" if f"{own}_id" != "id" else "key")
            while len(chosen) < n_columns:
                roll = rng.random()
                if roll < 0.3:
                    candidate = rng.choice(common_ids)
                elif roll < 0.85:
                    candidate = rng.choice(ATTRIBUTES)
                elif roll < 0.998:
                    candidate = f"{rng.choice(ENTITIES)}_{rng.choice(ATTRIBUTES)}"
                else:
                    candidate = next(rare_iter, f"{rng.choice(RARE_WORDS)}_{rng.choice(ATTRIBUTES)}")
                if candidate not in chosen:
                    chosen.append(candidate)
                elif len(chosen) >= 60:
                    chosen.append(f"col_{len(chosen)}")
            for position, column in enumerate(chosen[:n_columns], start=1):
                column_names[column] += 1
                comment = ""
                if rng.random() < 0.05:
                    comment = f"The {column.replace('_', ' ')} as {rng.choice(SYSTEMS)} reports it"
                yield (dataset_id, column, position, "bigint" if column.endswith("_id") or column == "id" else "text",
                       "integer" if column.endswith("_id") else "text", True, None, position == 1, comment, str(position), "")

    started = time.perf_counter()
    count = insert_rows(Column, ("dataset_id", "name", "position", "data_type", "type_family", "nullable", "default",
                                 "is_primary_key", "comment", "native_id", "description"), column_rows())
    log(f"columns: {count:,} in {time.perf_counter() - started:.1f}s ({len(column_names):,} distinct names)")

    # Metric definitions, tags, synonyms; the datasets they read; people who watch datasets; views reading tables.
    metric_names = []
    for measure in MEASURES:
        metric_names.append(measure)
        metric_names.extend(f"{p}_{measure}" for p in PERIODS)
    rng.shuffle(metric_names)
    metric_names = metric_names[:max(20, min(600, datasets // 100))]
    tags = MetricTag.objects.bulk_create([MetricTag(name=t) for t in ("finance", "product", "growth", "support", "board", "kpi")])
    definitions = []
    for i, name in enumerate(metric_names):
        status = "certified" if i % 4 == 0 else ("deprecated" if i % 10 == 3 else "draft")
        title = name.replace("_", " ").capitalize()
        definitions.append(MetricDefinition(
            name=name, title=title, sql=f"SELECT count(*) FROM {pairs[i][0]}.{pairs[i][1]}", status=status,
            description=f"{title}, as the {rng.choice(TEAMS)} team reports it. Counted per {rng.choice(GRAINS)}.",
            source=sources[0], fingerprint=f"m{i}", signature=f"s{i}"))
    definitions = MetricDefinition.objects.bulk_create(definitions)
    through = MetricDefinition.tags.through
    through.objects.bulk_create([through(metricdefinition_id=d.pk, metrictag_id=rng.choice(tags).pk) for d in definitions])
    synonyms = []
    for d in definitions:
        base = d.name
        for period in PERIODS:
            base = base.removeprefix(period + "_")
        if base in SYNONYMS and d.name == base:
            synonyms.append(MetricSynonym(definition=d, name=SYNONYMS[base]))
    MetricSynonym.objects.bulk_create(synonyms)
    uses = {}
    for d in definitions:
        for _ in range(rng.randint(1, 3)):
            j = rng.randrange(len(ids))
            uses[(d.pk, ids[j])] = MetricDatasetUse(definition=d, dataset_id=ids[j], dataset_name=f"{pairs[j][0]}.{pairs[j][1]}")
    MetricDatasetUse.objects.bulk_create(uses.values())
    users = get_user_model().objects.bulk_create([get_user_model()(username=f"user{i}", email=f"user{i}@example.com") for i in range(50)])
    subscriptions = {}
    for _ in range(min(5000, datasets // 10 + 10)):
        j = rng.randrange(len(ids))
        user = rng.choice(users)
        subscriptions[(user.pk, ids[j])] = (user.pk, sources[0].pk if j % 10 < 7 else sources[1 + j % 2].pk, pairs[j][0], ids[j],
                                            "immediate", False, now)
    insert_rows(Subscription, ("user_id", "source_id", "schema_name", "dataset_id", "mode", "breaking_only", "created_at"),
                subscriptions.values())
    edges = {}
    for _ in range(min(10000, datasets // 10 + 10)):
        a, b = rng.randrange(len(ids)), rng.randrange(len(ids))
        if a != b:
            edges[(ids[a], f"{pairs[b][0]}.{pairs[b][1]}")] = (sources[0].pk, ids[a], ids[b], f"{pairs[b][0]}.{pairs[b][1]}")
    insert_rows(LineageEdge, ("source_id", "downstream_id", "upstream_id", "upstream_name"), edges.values())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    rare = []
    wanted = {c for c, n in column_names.items() if n == 1 and c in set(rare_pool)}
    if wanted:
        position = {dataset_id: i for i, dataset_id in enumerate(ids)}
        for column_id, dataset_id, column in Column.objects.filter(name__in=wanted).values_list("id", "dataset_id", "name"):
            schema, name = pairs[position[dataset_id]]
            rare.append((column_id, name, schema, column))
    coded = []
    for i, code in coded_plan.items():
        schema, name = pairs[i]
        entity = name
        for prefix in PREFIXES:
            if prefix and entity.startswith(prefix):
                entity = entity[len(prefix):]
        coded.append((ids[i], code, entity.split("_")[0], schema))
    return Built(
        datasets=[(i, s, n) for i, (s, n) in zip(ids, pairs)], name_count=Counter(n for _, n in pairs), column_names=column_names,
        rare_columns=sorted(rare, key=lambda r: r[3]), coded=coded,
        metrics=[(d.pk, d.name, d.title, d.status) for d in definitions],
        synonyms=[(s.definition_id, s.name) for s in synonyms],
    )


# ---------------------------------------------------------------- queries


@dataclass
class Query:
    category: str
    text: str
    kind: str
    object_id: int


def _typo(rng: random.Random, word: str) -> str:
    letters = [i for i, c in enumerate(word) if c.isalpha()]
    i = rng.choice(letters[1:-1] or letters)
    edit = rng.choice(["drop", "swap", "double"])
    if edit == "drop":
        return word[:i] + word[i + 1:]
    if edit == "swap" and i + 1 < len(word) and word[i + 1].isalpha():
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i] + word[i:]


def make_queries(built: Built, total: int = 200, seed: int = 11) -> list[Query]:
    """Queries a person types, each with the one result they want first.

    Exact names and prefixes are of dataset names held once in the catalog (a name in
    seven schemas has seven right answers; those are asked qualified, schema.name).
    """
    rng = random.Random(seed)
    from catalog.search.text import name_key

    key_counts = Counter(name_key(n) for _, _, n in built.datasets)
    unique = [(i, s, n) for i, s, n in built.datasets if key_counts[name_key(n)] == 1 and len(n) >= 8]
    repeated = [(i, s, n) for i, s, n in built.datasets if built.name_count[n] > 1]
    rng.shuffle(unique)
    rng.shuffle(repeated)
    all_names = sorted({n for _, _, n in built.datasets})
    shares = {"exact": 0.15, "qualified": 0.05, "prefix": 0.15, "typo": 0.15, "description": 0.15, "metric": 0.175, "column": 0.175}
    wanted = {k: round(v * total) for k, v in shares.items()}
    queries: list[Query] = []
    pool = iter(unique)
    for i, s, n in [next(pool) for _ in range(min(wanted["exact"], len(unique)))]:
        queries.append(Query("exact", n, "dataset", i))
    for i, s, n in repeated[:wanted["qualified"]]:
        queries.append(Query("qualified", f"{s}.{n}", "dataset", i))

    import bisect


    keys = sorted({name_key(n) for n in all_names})
    key_count = Counter(name_key(n) for _, _, n in built.datasets)

    def with_prefix(prefix: str) -> list[str]:
        at = bisect.bisect_left(keys, prefix)
        found = []
        while at < len(keys) and keys[at].startswith(prefix):
            found.append(keys[at])
            at += 1
        return found

    prefixes = 0
    for i, s, n in pool:
        if prefixes >= wanted["prefix"]:
            break
        cut = n[: max(5, len(n) - rng.randint(2, 5))].rstrip("_")
        key = name_key(n)
        matches = with_prefix(name_key(cut))
        # The one a person means: the only name, in any naming style, that is shortest among those starting so.
        if key_count[key] == 1 and name_key(cut) != key and matches and min(matches, key=len) == key \
                and sum(1 for m in matches if len(m) == len(key)) == 1:
            queries.append(Query("prefix", cut, "dataset", i))
            prefixes += 1
    typos = 0
    for i, s, n in pool:
        if typos >= wanted["typo"]:
            break
        typo = _typo(rng, n)
        if name_key(typo) not in key_counts:
            queries.append(Query("typo", typo, "dataset", i))
            typos += 1
    for dataset_id, code, entity, schema in built.coded[:wanted["description"]]:
        text = rng.choice([f"{code} programme", f"{code} {entity}", f"{code.capitalize()}", f"reconciled {code}"])
        queries.append(Query("description", text, "dataset", dataset_id))
    # A deprecated definition is rightly ranked below its replacements: ask for the ones people should use.
    metrics = [m for m in built.metrics if m[3] != "deprecated"]
    rng.shuffle(metrics)
    by_id = {m[0]: m for m in metrics}
    metric_queries = [Query("metric", syn.replace("_", " "), "metric", d) for d, syn in built.synonyms if d in by_id]
    for pk, name, title, status in metrics:
        metric_queries.append(Query("metric", title.lower() if rng.random() < 0.5 else name, "metric", pk))
    queries.extend(metric_queries[:wanted["metric"]])
    assert all(q.object_id in by_id for q in queries if q.kind == "metric")
    rare = list(built.rare_columns)
    rng.shuffle(rare)
    for column_id, dataset_name, schema, column in rare[:wanted["column"]]:
        text = column if rng.random() < 0.7 else f"{dataset_name}.{column}"
        queries.append(Query("column", text, "column", column_id))
    return queries


# ---------------------------------------------------------------- measuring


def measure_queries(queries: list[Query]) -> tuple[list[float], float, dict]:
    from catalog.search.engine import search

    for q in queries:  # warm-up: PostgreSQL's caches and Python's, as a server that has answered before
        search(q.text)
    timings, reciprocal = [], []
    by_category: dict[str, list[float]] = defaultdict(list)
    misses = []
    for q in queries:
        started = time.perf_counter()
        results = search(q.text, limit=10)
        elapsed = (time.perf_counter() - started) * 1000
        timings.append(elapsed)
        rank = next((r for r, h in enumerate(results.hits, start=1) if (h.kind, h.object_id) == (q.kind, q.object_id)), None)
        rr = 1.0 / rank if rank else 0.0
        reciprocal.append(rr)
        by_category[q.category].append(rr)
        if rr < 1:
            misses.append((q, rank, [h.title for h in results.hits[:3]]))
    for q, rank, top in misses[:15]:
        log(f"  not first: [{q.category}] {q.text!r} wanted {q.kind} {q.object_id} at rank {rank}; top {top}")
    summary = {c: sum(v) / len(v) for c, v in sorted(by_category.items())}
    latency: dict[str, list[float]] = defaultdict(list)
    for q, elapsed in zip(queries, timings):
        latency[q.category].append(elapsed)
    log("latency by kind of query (p50/p95 ms): " + ", ".join(
        f"{c} {percentile(v, 0.5):.1f}/{percentile(v, 0.95):.1f}" for c, v in sorted(latency.items())))
    return timings, sum(reciprocal) / len(reciprocal), summary


def load_test(env: dict, queries: list[Query], *, clients: int, requests: int, seconds: float, workers: int,
              threads: int = 1) -> dict:
    """The results page through gunicorn on loopback, from `clients` threads at once, bounded in count and time."""
    port = free_port()
    server = subprocess.Popen(
        # --preload: Django is imported once, before the fork, so no worker pays for it on its first request.
        [sys.executable, "-m", "gunicorn", "catalog.wsgi", "--preload", "-w", str(workers), "--threads", str(threads),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, timeout=60)
        texts = [q.text for q in queries]
        latencies: list[float] = []
        failures = Counter()
        lock = threading.Lock()
        deadline, started = [0.0], [0.0]

        def start_clock():
            started[0], deadline[0] = time.perf_counter(), time.monotonic() + seconds

        ready = threading.Barrier(clients + 1, action=start_clock)
        counter = iter(range(requests))

        def client(number: int):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                for _ in range(2):  # every worker opens its database connection before the clock starts
                    connection.request("GET", "/search/?" + urlencode({"q": texts[number % len(texts)]}))
                    connection.getresponse().read()
            finally:
                ready.wait()
            while time.monotonic() < deadline[0]:
                with lock:
                    i = next(counter, None)
                if i is None:
                    break
                path = "/search/?" + urlencode({"q": texts[(i * 7 + number) % len(texts)]})
                started = time.perf_counter()
                try:
                    connection.request("GET", path)
                    response = connection.getresponse()
                    response.read()
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    connection.close()
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        failures["error"] += 1
            connection.close()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        ready.wait()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started[0]
        return {"requests": len(latencies), "errors": sum(failures.values()), "rps": len(latencies) / wall if wall else 0.0,
                "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95), "p99": percentile(latencies, 0.99)}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def explain(query: str) -> None:
    """EXPLAIN ANALYZE of each statement one query runs, for looking into a slow one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.search.engine import search

    with CaptureQueriesContext(connection) as captured:
        search(query)
    with connection.cursor() as cursor:
        for statement in captured.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"])
            print("\n".join(r[0] for r in cursor.fetchall()))
            print("-" * 80)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=100_000, help="datasets in the catalog (default 100000)")
    parser.add_argument("--columns", type=int, default=2_000_000, help="columns, spread over the datasets (default 2000000)")
    parser.add_argument("--queries", type=int, default=200, help="queries in the measured set (default 200)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients of the page load test (default 8)")
    parser.add_argument("--requests", type=int, default=800, help="page loads in the load test at most (default 800)")
    parser.add_argument("--seconds", type=float, default=60.0, help="the load test stops after this long (default 60)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn worker processes (default: one per core)")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker (default 2)")
    parser.add_argument("--explain", help="print EXPLAIN ANALYZE of this query's statements, then stop")
    args = parser.parse_args(argv)

    server = PostgresServer()
    log(f"starting PostgreSQL on 127.0.0.1:{server.port}")
    server.start()
    try:
        env = setup_django(server.create_database("canon"))
        started = time.perf_counter()
        built = build_catalog(args.datasets, args.columns)
        log(f"catalog built in {time.perf_counter() - started:.1f}s, peak RSS {peak_rss_mb():.0f} MB")

        from django.db import connection

        from catalog.search.rebuild import search_rebuild
        from catalog.search.models import SearchName

        marks = {"next": 0.1}

        def progress(done, total):
            if total and done / total >= marks["next"]:
                log(f"  indexed {done:,}/{total:,}")
                marks["next"] += 0.1

        started = time.perf_counter()
        docs = search_rebuild(progress=progress)
        index_s = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('search_searchdocument')), "
                           "pg_size_pretty(pg_total_relation_size('search_searchname'))")
            sizes = cursor.fetchone()
        log(f"index: {docs:,} documents, {SearchName.objects.count():,} distinct names in {index_s:.1f}s "
            f"(documents {sizes[0]}, names {sizes[1]}), peak RSS {peak_rss_mb():.0f} MB")
        if args.explain:
            explain(args.explain)
            return 0

        queries = make_queries(built, args.queries)
        log(f"queries: {len(queries)} ({', '.join(f'{k} {v}' for k, v in sorted(Counter(q.category for q in queries).items()))})")
        timings, mrr, per_category = measure_queries(queries)
        log("MRR by kind of query: " + ", ".join(f"{k} {v:.3f}" for k, v in per_category.items()))
        slowest = sorted(zip(timings, (q.text for q in queries)), reverse=True)[:5]
        log("slowest: " + ", ".join(f"{t:.1f} ms {text!r}" for t, text in slowest))
        p50, p95, p99 = percentile(timings, 0.5), percentile(timings, 0.95), percentile(timings, 0.99)
        log(f"search: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, mean {statistics.mean(timings):.1f} ms, MRR {mrr:.3f}")

        connection.close()
        # The web server keeps its database connections, as a production deployment does (DATABASE_URL ?conn_max_age=60):
        # a new PostgreSQL connection per page (SCRAM authentication, Django's setup) costs more than the search.
        served = {**env, "DATABASE_URL": env["DATABASE_URL"] + "?conn_max_age=60"}
        load = load_test(served, queries, clients=args.clients, requests=args.requests, seconds=args.seconds, workers=args.workers,
                         threads=args.threads)
        log(f"results page under {args.clients} concurrent clients ({args.workers} gunicorn workers x {args.threads} threads): "
            f"{load['requests']} loads, "
            f"{load['errors']} errors, {load['rps']:.0f}/s, p50 {load['p50']:.0f} ms, p95 {load['p95']:.0f} ms, p99 {load['p99']:.0f} ms")
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        server.stop()

    print(f"page clients={args.clients} loads={load['requests']} errors={load['errors']} rps={load['rps']:.0f} "
          f"p50_ms={load['p50']:.0f} p95_ms={load['p95']:.0f} p99_ms={load['p99']:.0f} index_s={index_s:.1f}", flush=True)
    print(f"search docs={docs} p50_ms={p50:.1f} p95_ms={p95:.1f} p99_ms={p99:.1f} mrr={mrr:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
