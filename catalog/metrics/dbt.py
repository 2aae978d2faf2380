"""A dbt project's target/ folder, read into plain records. Django-free.

manifest.json gives models and sources (their schema and relation name, which
is how they meet crawled datasets, descriptions, owners from `meta`, column
descriptions) and, from dbt 1.6 on, semantic models and metrics, keyed
`semantic_model.<package>.<name>` and `metric.<package>.<name>`.
semantic_manifest.json holds the same semantic models and metrics as lists; it
is preferred when present, and either shape is read.

Each metric becomes SQL that computes it, written by dbt_sql.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from catalog.core.sqlnames import SCHEME_DIALECTS
from catalog.metrics.dbt_sql import MetricSqlWriter, UnsupportedMetric

# dbt manifest schema versions Canon reads: v10 (dbt 1.6, the first with semantic models) to v12 (dbt 1.8 and later).
SUPPORTED_MANIFEST_VERSIONS = (10, 11, 12)
DBT_RELEASE = {1: "0.19", 2: "0.20", 3: "0.21", 4: "1.0", 5: "1.1", 6: "1.2", 7: "1.3", 8: "1.4", 9: "1.5", 10: "1.6", 11: "1.7",
               12: "1.8+"}
MAX_ARTIFACT_BYTES = 512 * 1024 * 1024
ADAPTER_DIALECTS = {**SCHEME_DIALECTS, "databricks": "databricks", "spark": "spark", "trino": "trino"}


class DbtImportError(ValueError):
    """The folder cannot be imported. The message says what to do."""


@dataclass
class DbtRelation:
    unique_id: str
    resource_type: str
    package: str
    schema: str
    name: str
    description: str = ""
    owner: str = ""
    meta: dict = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # column name -> description
    # Models only: how dbt builds it, the SQL it runs (the manifest's compiled_code, compiled_sql before dbt 1.3;
    # None when the manifest has none: one from `dbt parse`), the database its names are local to, and the
    # unique ids of the nodes it reads (depends_on).
    materialized: str = ""
    compiled_sql: str | None = None
    database: str = ""
    depends_on: list[str] = field(default_factory=list)


@dataclass
class DbtMetric:
    unique_id: str
    name: str
    package: str
    title: str
    description: str
    type: str
    sql: str = ""
    time_dimension: str = ""
    grain: str = ""
    owners: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    relations: list[tuple[str, str]] = field(default_factory=list)  # (schema, name) the SQL reads
    problems: list[str] = field(default_factory=list)  # why no SQL could be written


@dataclass
class DbtProject:
    path: Path
    project_name: str
    dbt_version: str
    manifest_version: int
    adapter: str
    dialect: str
    relations: list[DbtRelation]
    metrics: list[DbtMetric]
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- files


def _load(path: Path, name: str, *, required: bool) -> dict | None:
    file = path / name
    if not file.exists():
        if required:
            raise DbtImportError(
                f"There is no {name} in {path}. Run `dbt parse` (or any dbt command) in the project, "
                "then point at its target/ folder."
            )
        return None
    if not file.is_file():
        raise DbtImportError(f"{file} is not a file.")
    if file.stat().st_size > MAX_ARTIFACT_BYTES:
        raise DbtImportError(f"{file} is larger than {MAX_ARTIFACT_BYTES // (1024 * 1024)} MB; Canon does not read it.")
    try:
        with file.open("rb") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise DbtImportError(f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). "
                             "Regenerate it with `dbt parse`.") from None
    except UnicodeDecodeError:
        raise DbtImportError(f"{name} is not UTF-8 text; is it really a dbt artifact?") from None
    except OSError as exc:
        raise DbtImportError(f"{file} cannot be read: {exc.strerror or exc}.") from None
    if not isinstance(data, dict):
        raise DbtImportError(f"{name} does not hold a JSON object; it is not a dbt artifact.")
    return data


def _target_folder(path) -> Path:
    folder = Path(path).expanduser()
    if not folder.exists():
        raise DbtImportError(f"{folder} does not exist.")
    if folder.is_file():
        if folder.name in ("manifest.json", "semantic_manifest.json"):
            return folder.parent
        raise DbtImportError(f"{folder} is a file; give the dbt project's target/ folder.")
    if not (folder / "manifest.json").exists() and (folder / "target" / "manifest.json").exists():
        return folder / "target"
    return folder


def _manifest_version(manifest: dict) -> int:
    metadata = manifest.get("metadata")
    if not isinstance(metadata, dict):
        raise DbtImportError("manifest.json has no metadata: it is not a dbt manifest.")
    schema = str(metadata.get("dbt_schema_version") or "")
    match = re.search(r"/manifest/v(\d+)\.json$", schema)
    if not match:
        raise DbtImportError(f"manifest.json does not say which dbt manifest version it is (dbt_schema_version: {schema or 'missing'}).")
    version = int(match.group(1))
    if version not in SUPPORTED_MANIFEST_VERSIONS:
        release = DBT_RELEASE.get(version)
        made_by = f" (dbt {metadata.get('dbt_version') or release or '?'})"
        if version < SUPPORTED_MANIFEST_VERSIONS[0]:
            advice = "Upgrade the project to dbt 1.6 or later and run `dbt parse` again."
        else:
            advice = "This Canon does not know that format yet."
        raise DbtImportError(
            f"manifest.json is dbt manifest v{version}{made_by}; Canon reads v{SUPPORTED_MANIFEST_VERSIONS[0]} "
            f"to v{SUPPORTED_MANIFEST_VERSIONS[-1]} (dbt 1.6 and later). {advice}"
        )
    return version


def _section(data: dict, key: str, file: str, *, kind=dict):
    value = data.get(key, kind())
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise DbtImportError(f"{file}: '{key}' should be a {'list' if kind is list else 'mapping'}; the file is damaged or not from dbt.")
    return value


def _items(section) -> list[dict]:
    """Semantic models and metrics: dicts keyed by unique id in manifest.json, lists in semantic_manifest.json."""
    values = section.values() if isinstance(section, dict) else section
    return [v for v in values if isinstance(v, dict)]


def _meta(node: dict) -> dict:
    meta = {}
    config = node.get("config") if isinstance(node.get("config"), dict) else {}
    for source in (config.get("meta"), node.get("meta")):
        if isinstance(source, dict):
            meta.update(source)
    return meta


def _owners(meta: dict) -> list[str]:
    owner = meta.get("owner", meta.get("owners"))
    if isinstance(owner, str):
        return [o.strip() for o in re.split(r"[,;]", owner) if o.strip()]
    if isinstance(owner, list):
        return [str(o).strip() for o in owner if str(o).strip()]
    return []


def _compiled_sql(node: dict) -> str | None:
    """The SQL dbt runs for the model, Jinja rendered: never raw_code, which is the Jinja itself."""
    for key in ("compiled_code", "compiled_sql"):
        value = node.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


# ---------------------------------------------------------------- reading


def read_target(path) -> DbtProject:
    """Read a dbt target/ folder (or a project folder holding one). Raises DbtImportError with a message for a person."""
    folder = _target_folder(path)
    manifest = _load(folder, "manifest.json", required=True)
    version = _manifest_version(manifest)
    semantic = _load(folder, "semantic_manifest.json", required=False)
    metadata = manifest["metadata"]
    adapter = str(metadata.get("adapter_type") or "")
    dialect = ADAPTER_DIALECTS.get(adapter, "postgres")
    warnings = []
    if adapter and adapter not in ADAPTER_DIALECTS:
        warnings.append(f"dbt adapter '{adapter}' is not one Canon knows; its SQL is read as PostgreSQL.")

    nodes = _section(manifest, "nodes", "manifest.json")
    sources = _section(manifest, "sources", "manifest.json")
    if "nodes" not in manifest:
        raise DbtImportError("manifest.json has no 'nodes': it is not a dbt manifest.")
    relations = []
    for unique_id, node in list(nodes.items()) + list(sources.items()):
        if not isinstance(node, dict):
            raise DbtImportError(f"manifest.json: {unique_id} is not an object; the file is damaged.")
        kind = node.get("resource_type")
        if kind not in ("model", "seed", "snapshot", "source"):
            continue
        if kind != "source" and (node.get("config") or {}).get("materialized") == "ephemeral":
            continue  # builds nothing in the warehouse
        name = node.get("identifier") if kind == "source" else node.get("alias")
        meta = _meta(node)
        owners = _owners(meta)
        columns = node.get("columns") if isinstance(node.get("columns"), dict) else {}
        config = node.get("config") if isinstance(node.get("config"), dict) else {}
        depends = (node.get("depends_on") or {}).get("nodes") if isinstance(node.get("depends_on"), dict) else None
        relations.append(DbtRelation(
            unique_id=str(unique_id), resource_type=kind, package=str(node.get("package_name") or ""),
            schema=str(node.get("schema") or ""), name=str(name or node.get("name") or ""),
            description=str(node.get("description") or ""), owner=", ".join(owners), meta=meta,
            columns={str(c.get("name") or key): str(c.get("description") or "") for key, c in columns.items() if isinstance(c, dict)},
            materialized=str(config.get("materialized") or "") if kind == "model" else "",
            compiled_sql=_compiled_sql(node) if kind == "model" else None, database=str(node.get("database") or ""),
            depends_on=[str(d) for d in depends or [] if isinstance(d, str)],
        ))

    if semantic is not None:
        semantic_models = _items(_section(semantic, "semantic_models", "semantic_manifest.json", kind=list))
        metric_nodes = _items(_section(semantic, "metrics", "semantic_manifest.json", kind=list))
    else:
        semantic_models = _items(_section(manifest, "semantic_models", "manifest.json"))
        metric_nodes = _items(_section(manifest, "metrics", "manifest.json"))
    # manifest.json knows each metric's package and tags; semantic_manifest.json does not.
    manifest_metrics = {m.get("name"): m for m in _items(_section(manifest, "metrics", "manifest.json"))}
    writer = MetricSqlWriter(semantic_models, metric_nodes, dialect)
    metrics = []
    for node in metric_nodes:
        name = str(node.get("name") or "")
        if not name:
            warnings.append("A metric without a name was skipped.")
            continue
        full = manifest_metrics.get(name, {})
        package = str(full.get("package_name") or metadata.get("project_name") or "")
        meta = {**_meta(full), **_meta(node)}
        metric = DbtMetric(
            unique_id=str(full.get("unique_id") or f"metric.{package}.{name}"), name=name, package=package,
            title=str(node.get("label") or full.get("label") or name.replace("_", " ").capitalize()),
            description=str(node.get("description") or full.get("description") or ""), type=str(node.get("type") or "simple"),
            owners=_owners(meta), tags=[str(t) for t in (full.get("tags") or []) if isinstance(t, str)],
        )
        try:
            metric.sql, metric.relations, metric.time_dimension, metric.grain = writer.metric_sql(name)
        except UnsupportedMetric as exc:
            metric.problems.append(str(exc))
        metrics.append(metric)
    project_name = str(metadata.get("project_name") or (metrics[0].package if metrics else ""))
    return DbtProject(path=folder, project_name=project_name, dbt_version=str(metadata.get("dbt_version") or ""),
                      manifest_version=version, adapter=adapter, dialect=dialect, relations=relations, metrics=metrics,
                      warnings=warnings)
