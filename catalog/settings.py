"""Canon settings. Everything comes from the environment (django-environ), read once here.

The embedded default needs nothing set: a SQLite file under var/, an in-process
Celery broker, and email written to var/mail/. Production sets DATABASE_URL,
CELERY_BROKER_URL, EMAIL_URL, SECRET_KEY and CANON_ENCRYPTION_KEY.

Importing settings makes no folder: each is made where it is first needed (the key files by
catalog/core/keys.py, the broker's folders by catalog/celery.py, the demo's by the demo command,
mail's by Django's file backend), so a command that needs none of them touches no disk.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from catalog.core.keys import kept_key

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)  # the process environment wins
VAR_DIR = Path(env.str("CANON_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "catalog.core",
    "catalog.beat",
    "catalog.sources",
    "catalog.inventory",
    "catalog.lineage",
    "catalog.history",
    "catalog.alerts",
    "catalog.metrics",
    "catalog.search",
    "catalog.duplicates",
    "catalog.quality",
    "catalog.crawls",
    "catalog.impact",
    "catalog.audit",
    "catalog.usage",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "catalog.core.middleware.LoginRequiredMiddleware",
    "catalog.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "catalog.urls"
WSGI_APPLICATION = "catalog.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'canon.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a crawl writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 30)
    # Every transaction takes the write lock when it begins, so it waits (timeout) for another writer (the
    # web's Crawl now, beat, a crawl's heartbeat) instead of failing at once with "database is locked" when it
    # reads and then writes: SQLite cannot upgrade a read snapshot that another connection wrote past.
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

# Production is DEBUG off with a server database. It must be given its secret key and is closed to
# anonymous visitors by default; the embedded default (SQLite) and DEBUG make their own key and are open.
CANON_PRODUCTION = not DEBUG and DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if CANON_PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Canon runs in production (DEBUG off, DATABASE_URL a server database) and will not "
            "start with a key anyone could know; set SECRET_KEY to a long random value (for example: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))') and keep it."
        )
    SECRET_KEY = kept_key(VAR_DIR / "secret.key")  # made once, mode 600, as var/encryption.key

# Reading the catalog (pages and API) needs a login; login, static files and unsubscribe links
# (their signed token is the credential) never do. The API answers 401 with WWW-Authenticate.
CANON_REQUIRE_LOGIN = env.bool("CANON_REQUIRE_LOGIN", default=CANON_PRODUCTION)
# Sources that open files on this server (file:// folders, sqlite:/// and duckdb:/// files) may only open
# them inside these folders, or these very files (symlinks and '..' resolved). Production default: none,
# so no such source at all; the embedded default: what the demo reads (its lake and its SQLite shop).
CANON_FILE_ROOTS = env.list("CANON_FILE_ROOTS", default=[] if CANON_PRODUCTION else [
    str(VAR_DIR / "demo" / "lake"), str(VAR_DIR / "demo" / "shop.sqlite")])

# HTTPS. Production defaults are those of a site served over HTTPS only. Behind a proxy that ends
# TLS, set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https (and make the proxy set that header).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=CANON_PRODUCTION)
SECURE_PROXY_SSL_HEADER = env.tuple("SECURE_PROXY_SSL_HEADER", default=None)
# Start with an hour; raise it (to a year, 31536000) once HTTPS is known to work.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=3600 if CANON_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=CANON_PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=CANON_PRODUCTION)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=CANON_PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=CANON_PRODUCTION)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header is what makes missing or bad credentials a 401
    # (with SessionAuthentication first, DRF answers 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Reading needs a login when CANON_REQUIRE_LOGIN is on; writing always does.
    "DEFAULT_PERMISSION_CLASSES": ["catalog.core.permissions.CatalogReadPermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "catalog.core.pagination.CatalogPagination",  # ?page_size= up to 500
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "catalog.core.openapi.CanonAutoSchema",  # documents the 400/401/403/404 answers too
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Canon API",
    # The reference page (/api/docs/): Swagger UI from drf-spectacular-sidecar's static files, filterable by tag.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"filter": True, "deepLinking": True, "displayOperationId": False},
    "DESCRIPTION": "Datasets, schemas, owners and sources of the Canon data catalog.",
    "VERSION": "1",
    # The schema is read like the rest of the API: behind a login when CANON_REQUIRE_LOGIN is on.
    "SERVE_PERMISSIONS": ["catalog.core.permissions.CatalogReadPermission"],
    # Several models call a choice set `kind` or `status`: each enum gets its own name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "DatasetKindEnum": "catalog.inventory.models.Dataset.KIND_CHOICES",
        "SchemaChangeKindEnum": "catalog.history.models.SchemaChange.KIND_CHOICES",
        "MetricEventKindEnum": "catalog.metrics.models.MetricEvent.KIND_CHOICES",
        "SearchDocumentKindEnum": "catalog.search.models.SearchDocument.KIND_CHOICES",
        "MetricStatusEnum": "catalog.metrics.models.MetricDefinition.STATUS_CHOICES",
        "CrawlStatusEnum": "catalog.sources.models.Crawl.STATUS_CHOICES",
        "OutboxStatusEnum": "catalog.alerts.models.OutboxMessage.STATUS_CHOICES",
        "DuplicateKindEnum": "catalog.duplicates.models.DuplicateGroup.KIND_CHOICES",
        "DuplicateVerdictEnum": "catalog.duplicates.models.Decision.VERDICT_CHOICES",
    },
}

# Secrets in source URLs are encrypted with this Fernet key (urlsafe base64, 32 bytes).
# Without it, the embedded default keeps a generated key in var/encryption.key.
CANON_ENCRYPTION_KEY = env.str("CANON_ENCRYPTION_KEY", default="")

# Connector limits: a warehouse that does not answer must not hang a crawl.
CANON_CONNECT_TIMEOUT = env.int("CANON_CONNECT_TIMEOUT", default=10)
CANON_STATEMENT_TIMEOUT = env.int("CANON_STATEMENT_TIMEOUT", default=300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "catalog.core.logging.RedactSecretsFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Celery. The embedded default needs no server: a broker on the filesystem under var/.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")  # a host, or kombu warns on every connection
if CELERY_BROKER_URL.startswith("filesystem://"):
    # One folder in and out, so the worker reads what the web process and beat write; exchange
    # bindings (control) under var/ too, not in whatever directory a process started in. The Celery
    # app makes them when it is configured (catalog/celery.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(VAR_DIR / "celery" / "queue"),
                                       "data_folder_out": str(VAR_DIR / "celery" / "queue"),
                                       "control_folder": str(VAR_DIR / "celery" / "control"), "store_processed": False}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "canon.crawl_source": {"queue": "crawl"},
    "canon.outbox_flush": {"queue": "notify"},
    "canon.send_digests": {"queue": "notify"},
    "canon.profile_sample": {"queue": "crawl"},
    "canon.search_index_source": {"queue": "index"},
}
# Canon's own beat (catalog/beat): CELERY_BEAT_SCHEDULE plus the entries of each provider below, read every few
# seconds; the last run of each kept in the database, so a restarted beat neither repeats nor skips.
CELERY_BEAT_SCHEDULER = "catalog.beat.scheduler:Scheduler"
CANON_BEAT_ENTRIES = ["catalog.sources.beat.beat_entries"]
CELERY_BEAT_SCHEDULE = {
    # Retries of failed sends, and anything whose task was lost.
    "canon-outbox-flush": {"task": "canon.outbox_flush", "schedule": env.float("CANON_OUTBOX_FLUSH_SECONDS", default=60.0)},
    "canon-daily-digests": {"task": "canon.send_digests", "schedule": 3600.0},
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The app a process loads when it first sends a task (catalog/core/queue.py), and not before.
CANON_CELERY_APP = "catalog.celery.app"

# Crawls
# What runs after a crawl's extraction is applied, in this order, in the crawl's one transaction: each a
# function of one CrawlOutcome (catalog/crawls/steps.py). Lineage before search, which indexes each
# dataset's readers; history before metrics and alerts, which read the schema changes it records; duplicates after
# lineage (derived copies) and before search (copies labelled).
CANON_CRAWL_STEPS = [
    "catalog.lineage.steps.refresh",
    "catalog.history.steps.record_changes",
    "catalog.metrics.steps.recheck_definitions",
    "catalog.duplicates.steps.find_copies",
    "catalog.search.steps.index_changes",
    "catalog.alerts.steps.queue_alerts",
    "catalog.quality.steps.observe_freshness",
    "catalog.quality.steps.observe_profiles",
    "catalog.usage.steps.read_usage",
]
# Copies of datasets (catalog/duplicates): a group shows at most this many datasets, with a warning past it. Storage
# prices in USD per GB-month by engine (the source URL's scheme), "default" for the others, read by catalog/core/storage.py
# for every page that prices storage (duplicates, Unused); the admin's Storage prices override each.
CANON_DUPLICATES_MAX_GROUP = env.int("CANON_DUPLICATES_MAX_GROUP", default=50)
# A crawl adding, changing or removing more datasets than this finds their copies in a task after its commit.
CANON_DUPLICATES_SYNC_DATASETS = env.int("CANON_DUPLICATES_SYNC_DATASETS", default=1000)
CANON_STORAGE_PRICES = env.dict("CANON_STORAGE_PRICES", cast={"value": float}, default={
    "postgresql": 0.115, "mysql": 0.115, "redshift": 0.024, "snowflake": 0.023, "bigquery": 0.02, "s3": 0.023,
    "duckdb": 0.08, "sqlite": 0.08, "default": 0.05,
})
CANON_CRAWL_TIME_LIMIT = env.int("CANON_CRAWL_TIME_LIMIT", default=3600)
# A running crawl stamps its row this often; one not stamped for CANON_CRAWL_STALE_HEARTBEATS intervals
# lost its worker: it is marked failed and the next crawl of its source runs (catalog/crawls/lease.py).
CANON_CRAWL_HEARTBEAT_SECONDS = env.float("CANON_CRAWL_HEARTBEAT_SECONDS", default=30.0)
CANON_CRAWL_STALE_HEARTBEATS = env.int("CANON_CRAWL_STALE_HEARTBEATS", default=4)
# Dead crawls are looked for this often even if nobody crawls, so a source page stops saying "running".
CELERY_BEAT_SCHEDULE["canon-crawl-reap-dead"] = {"task": "canon.crawl_reap_dead", "schedule": 2 * CANON_CRAWL_HEARTBEAT_SECONDS}
# Crawl tasks are acknowledged late (CELERY_TASK_ACKS_LATE): a worker killed mid-crawl leaves its message
# unacknowledged, and Redis hands it out again after this long, which must outlast the hard time limit
# (soft limit + 120 s) or a crawl still running would be handed to a second worker. A redelivered crawl
# that already started does nothing (the heartbeat, not the message, recovers a dead crawl); the
# filesystem broker of the embedded default removes a message when it is read, so there is no redelivery.
# A pool process that died (out of memory) does not requeue its task (reject_on_worker_lost stays off):
# a crawl that kills its worker would otherwise be handed out forever.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CANON_CRAWL_TIME_LIMIT + 300}
CELERY_TASK_REJECT_ON_WORKER_LOST = False
# Freshness: connectors read the engine's statistics (write counters, analyze and vacuum times; never data),
# and a stale check runs this often besides each crawl (docs/quality.md).
CANON_ENGINE_STATISTICS = env.bool("CANON_ENGINE_STATISTICS", default=True)
CELERY_BEAT_SCHEDULE["canon-freshness-check"] = {"task": "canon.freshness_check",
                                                 "schedule": env.float("CANON_FRESHNESS_CHECK_SECONDS", default=300.0)}
# Columns whose profiles keep counts and never values: a column whose name holds one of these (any case).
CANON_SENSITIVE_COLUMNS = env.list("CANON_SENSITIVE_COLUMNS", default=[
    "email", "e_mail", "ssn", "social_security", "password", "passwd", "secret", "token", "phone", "iban", "card_number",
    "credit_card", "birth", "address", "salary"])
CANON_MASS_REMOVAL_SHARE = env.float("CANON_MASS_REMOVAL_SHARE", default=0.5)
CANON_FAILING_AFTER = env.int("CANON_FAILING_AFTER", default=3)
CANON_DIGEST_HOUR = env.int("CANON_DIGEST_HOUR", default=7)
# Metric definitions: the longest SQL Canon parses (sqlglot is pure Python; see docs/metrics.md).
CANON_METRIC_SQL_MAX_CHARS = env.int("CANON_METRIC_SQL_MAX_CHARS", default=20_000)
# ... how deep it may nest (parentheses, CASE, subqueries; checked before parsing), and the seconds one
# request may spend reading it (parse, qualify against the catalog, fingerprint; a hard stop).
CANON_METRIC_SQL_MAX_DEPTH = env.int("CANON_METRIC_SQL_MAX_DEPTH", default=20)
CANON_METRIC_SQL_TIME_BUDGET = env.float("CANON_METRIC_SQL_TIME_BUDGET", default=2.0)
# Search: a crawl changing more documents than this indexes them in a task on the `index` queue, not in its transaction.
CANON_SEARCH_SYNC_DOCUMENTS = env.int("CANON_SEARCH_SYNC_DOCUMENTS", default=20_000)
# Search prepares its one query statement on PostgreSQL (planned once per connection); off behind a pooler that cannot.
CANON_SEARCH_PREPARE = env.bool("CANON_SEARCH_PREPARE", default=True)

# Audit log (catalog/audit, docs/audit.md): django-auditlog writes Canon's own entry model; entries older than
# this many days are pruned daily, and none is ever changed.
AUDITLOG_LOGENTRY_MODEL = "audit.AuditEntry"
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_USE_FK_STRING_REPRESENTATION = True
# Its own entry table (auditlog_logentry) is swapped out for audit.AuditEntry: never made, so nothing points at
# content types and users from a table nobody reads (which would also stop the test databases' TRUNCATE).
MIGRATION_MODULES = {"auditlog": None}
CANON_AUDIT_KEEP_DAYS = env.int("CANON_AUDIT_KEEP_DAYS", default=730)
CELERY_BEAT_SCHEDULE["canon-audit-prune"] = {"task": "canon.audit_prune", "schedule": 86400.0}

# Usage from query history (catalog/usage, docs/usage.md): each crawl reads at most this many distinct
# statements of the source's history (pg_stat_statements, performance_schema, Snowflake, BigQuery).
CANON_USAGE_ENABLED = env.bool("CANON_USAGE_ENABLED", default=True)
CANON_USAGE_MAX_STATEMENTS = env.int("CANON_USAGE_MAX_STATEMENTS", default=20_000)
# ... and parses new statements for at most this many seconds (the rest wait for the next crawl; 0: no bound).
CANON_USAGE_PARSE_SECONDS = env.float("CANON_USAGE_PARSE_SECONDS", default=60.0)
# The Unused page: datasets nobody read for this many days.
CANON_UNUSED_DAYS = env.int("CANON_UNUSED_DAYS", default=90)

# Email. EMAIL_URL (smtp://user:pass@host:587/?tls=True) in production; the embedded
# default writes each message as a file under var/mail/ for a person to read.
CANON_BASE_URL = env.str("CANON_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Canon <canon@localhost>")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=15)
# A failed send is retried after this many seconds, then twice as long each time (at most an hour).
CANON_OUTBOX_RETRY_SECONDS = env.float("CANON_OUTBOX_RETRY_SECONDS", default=30.0)
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
