"""A dbt project's target/ folder, read into plain records. Django-free.

manifest.json gives models and sources (their schema and relation name, which
is how they meet crawled datasets, descriptions, owners from `meta`, column
descriptions) and, from dbt 1.6 on, semantic models and metrics, keyed
`semantic_model.<package>.<name>` and `metric.<package>.<name>`.
semantic_manifest.json holds the same semantic models and metrics as lists; it
is preferred when present, and either shape is read.

Each metric becomes SQL that computes it (simple, ratio, derived, cumulative,
conversion), written in neutral SQL and transpiled by sqlglot into the
project's dialect. It is the query a person would write against the tables,
not MetricFlow's own plan: enough to know which datasets and columns a metric
reads, and to compare it with definitions written by hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from catalog.core.sqlnames import SCHEME_DIALECTS

# dbt manifest schema versions Canon reads: v10 (dbt 1.6, the first with semantic models) to v12 (dbt 1.8 and later).
SUPPORTED_MANIFEST_VERSIONS = (10, 11, 12)
DBT_RELEASE = {1: "0.19", 2: "0.20", 3: "0.21", 4: "1.0", 5: "1.1", 6: "1.2", 7: "1.3", 8: "1.4", 9: "1.5", 10: "1.6", 11: "1.7",
               12: "1.8+"}
MAX_ARTIFACT_BYTES = 512 * 1024 * 1024
ADAPTER_DIALECTS = {**SCHEME_DIALECTS, "databricks": "databricks", "spark": "spark", "trino": "trino"}
GRAINS = ("hour", "day", "week", "month", "quarter", "year")


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
        relations.append(DbtRelation(
            unique_id=str(unique_id), resource_type=kind, package=str(node.get("package_name") or ""),
            schema=str(node.get("schema") or ""), name=str(name or node.get("name") or ""),
            description=str(node.get("description") or ""), owner=", ".join(owners), meta=meta,
            columns={str(c.get("name") or key): str(c.get("description") or "") for key, c in columns.items() if isinstance(c, dict)},
        ))

    if semantic is not None:
        semantic_models = _items(_section(semantic, "semantic_models", "semantic_manifest.json", kind=list))
        metric_nodes = _items(_section(semantic, "metrics", "semantic_manifest.json", kind=list))
    else:
        semantic_models = _items(_section(manifest, "semantic_models", "manifest.json"))
        metric_nodes = _items(_section(manifest, "metrics", "manifest.json"))
    # manifest.json knows each metric's package and tags; semantic_manifest.json does not.
    manifest_metrics = {m.get("name"): m for m in _items(_section(manifest, "metrics", "manifest.json"))}
    writer = _SqlWriter(semantic_models, metric_nodes, dialect)
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
        except _Unsupported as exc:
            metric.problems.append(str(exc))
        metrics.append(metric)
    project_name = str(metadata.get("project_name") or (metrics[0].package if metrics else ""))
    return DbtProject(path=folder, project_name=project_name, dbt_version=str(metadata.get("dbt_version") or ""),
                      manifest_version=version, adapter=adapter, dialect=dialect, relations=relations, metrics=metrics,
                      warnings=warnings)


# ---------------------------------------------------------------- SQL


class _Unsupported(Exception):
    pass


@dataclass
class _Measure:
    name: str
    agg: str
    expr: str
    model: dict
    time_dimension: str
    agg_params: dict
    filter: str = ""


def _filters_of(value) -> list[str]:
    """A dbt filter: a string, a list of strings, or {"where_filters": [{"where_sql_template": ...}]}."""
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [f for v in value for f in _filters_of(v)]
    if isinstance(value, dict):
        if "where_filters" in value:
            return _filters_of(value["where_filters"])
        if "where_sql_template" in value:
            return [str(value["where_sql_template"])]
    return []


_JINJA = re.compile(r"\{\{\s*(Dimension|TimeDimension|Entity)\(\s*['\"]([^'\"]+)['\"](?:\s*,\s*['\"]([^'\"]+)['\"])?\s*\)"
                    r"((?:\s*\.\s*\w+\([^)]*\))*)\s*\}\}")


class _SqlWriter:
    def __init__(self, semantic_models: list[dict], metrics: list[dict], dialect: str):
        self.dialect = dialect
        self.models = {m.get("name"): m for m in semantic_models}
        self.metrics = {m.get("name"): m for m in metrics}
        self.measures: dict[str, tuple[dict, dict]] = {}
        for model in semantic_models:
            for measure in model.get("measures") or []:
                if isinstance(measure, dict) and measure.get("name"):
                    self.measures[measure["name"]] = (model, measure)

    # -- pieces

    @staticmethod
    def _relation(model: dict) -> tuple[str, str]:
        relation = model.get("node_relation") or {}
        schema, name = relation.get("schema_name"), relation.get("alias")
        if not name:
            raise _Unsupported(f"semantic model {model.get('name')} does not say which table it reads")
        return str(schema or ""), str(name)

    @staticmethod
    def _element_expr(element: dict) -> str:
        # `expr: null` means "a column named like the element".
        return str(element.get("expr") or element.get("name"))

    def _dimension(self, model: dict, name: str) -> dict | None:
        return next((d for d in model.get("dimensions") or [] if d.get("name") == name), None)

    def _find_dimension(self, reference: str, prefer: dict) -> tuple[dict, dict]:
        """'order__is_large' (entity__dimension) or 'is_large': the dimension, in the preferred model first."""
        name = reference.split("__")[-1]
        for model in [prefer, *self.models.values()]:
            dimension = self._dimension(model, name)
            if dimension is not None:
                return model, dimension
            if any(e.get("name") == name for e in model.get("entities") or []):
                entity = next(e for e in model.get("entities") if e.get("name") == name)
                return model, entity
        raise _Unsupported(f"the filter names {reference}, which no semantic model defines")

    def _render_filter(self, template: str, model: dict) -> str:
        def replace(match: re.Match) -> str:
            kind, reference, grain, calls = match.groups()
            other, element = self._find_dimension(reference, model)
            if other is not model:
                raise _Unsupported(f"the filter uses {reference} from semantic model {other.get('name')}, which needs a join Canon does not write")
            expression = self._element_expr(element)
            grain_call = re.search(r"grain\(\s*['\"](\w+)['\"]\s*\)", calls or "")
            grain = grain or (grain_call.group(1) if grain_call else None)
            if kind == "TimeDimension" and grain:
                return f"DATE_TRUNC('{grain.lower()}', {expression})"
            return expression

        rendered = _JINJA.sub(replace, template)
        if "{{" in rendered or "{%" in rendered:
            raise _Unsupported(f"the filter {template!r} uses Jinja Canon does not render")
        return rendered

    def _measure(self, reference) -> _Measure:
        """A measure by name (older manifests: a dict {name: ...} or a bare string under type_params.measure)."""
        if isinstance(reference, str):
            reference = {"name": reference}
        name = reference.get("name")
        if name not in self.measures:
            raise _Unsupported(f"it uses measure {name}, which no semantic model defines")
        model, measure = self.measures[name]
        time = measure.get("agg_time_dimension") or (model.get("defaults") or {}).get("agg_time_dimension") or ""
        return _Measure(name=name, agg=str(measure.get("agg") or "sum").lower(), expr=self._element_expr(measure), model=model,
                        time_dimension=str(time), agg_params=measure.get("agg_params") or {},
                        filter=" AND ".join(_filters_of(reference.get("filter"))))

    def _flat_measure(self, node: dict) -> _Measure | None:
        """Newer metric specs put agg and expr on the simple metric itself, next to the semantic model it reads."""
        params = node.get("type_params") or {}
        agg = params.get("agg") or node.get("agg")
        if not agg:
            return None
        model_name = node.get("semantic_model") or params.get("semantic_model")
        model = self.models.get(model_name) if model_name else (next(iter(self.models.values())) if len(self.models) == 1 else None)
        if model is None:
            raise _Unsupported("it does not say which semantic model it reads")
        expr = params.get("expr") if "expr" in params else node.get("expr")
        time = params.get("agg_time_dimension") or node.get("agg_time_dimension") or (model.get("defaults") or {}).get("agg_time_dimension") or ""
        return _Measure(name=str(node.get("name")), agg=str(agg).lower(), expr=str(expr or node.get("name")), model=model,
                        time_dimension=str(time), agg_params=params.get("agg_params") or {})

    @staticmethod
    def _aggregate(measure: _Measure) -> str:
        expr = measure.expr
        percentile = (measure.agg_params or {}).get("percentile")
        return {
            "sum": f"SUM({expr})", "count": f"COUNT({expr})", "count_distinct": f"COUNT(DISTINCT {expr})", "average": f"AVG({expr})",
            "avg": f"AVG({expr})", "min": f"MIN({expr})", "max": f"MAX({expr})", "median": f"MEDIAN({expr})",
            "sum_boolean": f"SUM(CASE WHEN {expr} THEN 1 ELSE 0 END)",
            "percentile": f"QUANTILE_CONT({expr}, {percentile if percentile is not None else 0.5})",
        }.get(measure.agg) or _raise(f"aggregation {measure.agg} is not one Canon writes")

    def _time(self, measure: _Measure) -> tuple[str, str]:
        """(the time dimension's expression, its granularity)."""
        if not measure.time_dimension:
            raise _Unsupported(f"measure {measure.name} has no time dimension")
        dimension = self._dimension(measure.model, measure.time_dimension)
        if dimension is None:
            return measure.time_dimension, "day"
        grain = ((dimension.get("type_params") or {}).get("time_granularity") or "day").lower()
        return self._element_expr(dimension), grain

    # -- queries (neutral SQL; transpiled at the end)

    def _simple(self, measure: _Measure, grain: str, value: str, extra_filters=()) -> tuple[str, set]:
        schema, table = self._relation(measure.model)
        time, _ = self._time(measure)
        filters = [self._render_filter(f, measure.model) for f in ([measure.filter] if measure.filter else []) + list(extra_filters)]
        where = f" WHERE {' AND '.join(f'({f})' for f in filters)}" if filters else ""
        sql = (f"SELECT DATE_TRUNC('{grain}', {time}) AS metric_time, {self._aggregate(measure)} AS {value} "
               f"FROM {schema + '.' if schema else ''}{table}{where} GROUP BY 1")
        return sql, {(schema, table)}

    def _input_measure(self, node: dict) -> _Measure:
        params = node.get("type_params") or {}
        if params.get("measure"):
            return self._measure(params["measure"])
        flat = self._flat_measure(node)
        if flat is None:
            raise _Unsupported("it names no measure")
        return flat

    def _grain(self, node: dict, measure: _Measure | None) -> str:
        grain = str(node.get("time_granularity") or "").lower()
        if grain in GRAINS:
            return grain
        return self._time(measure)[1] if measure else "day"

    def _query(self, name: str, value: str, depth: int = 0, extra_filters=()) -> tuple[str, set, str, str]:
        """(SQL with columns metric_time and `value`, relations read, time dimension, grain) for one metric."""
        if depth > 10:
            raise _Unsupported("its metrics refer to each other in a loop")
        node = self.metrics.get(name)
        if node is None:
            raise _Unsupported(f"it uses metric {name}, which the project does not define")
        kind = str(node.get("type") or "simple").lower()
        params = node.get("type_params") or {}
        filters = [*_filters_of(node.get("filter")), *extra_filters]
        if kind == "simple":
            measure = self._input_measure(node)
            grain = self._grain(node, measure)
            sql, relations = self._simple(measure, grain, value, filters)
            return sql, relations, measure.time_dimension, grain
        if kind == "cumulative":
            measure = self._input_measure(node)
            grain = self._grain(node, measure)
            cumulative = params.get("cumulative_type_params") or {}
            window = cumulative.get("window") or params.get("window")
            to_date = cumulative.get("grain_to_date") or params.get("grain_to_date")
            inner, relations = self._simple(measure, grain, "period_value", filters)
            if isinstance(window, dict) and window.get("count"):
                count, unit = int(window["count"]), str(window.get("granularity") or grain).lower()
                frame = f"ROWS BETWEEN {max(count - 1, 0)} PRECEDING AND CURRENT ROW" if unit == grain else \
                    "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
                over = f"ORDER BY metric_time {frame}"
            elif to_date:
                over = f"PARTITION BY DATE_TRUNC('{str(to_date).lower()}', metric_time) ORDER BY metric_time " \
                       "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
            else:
                over = "ORDER BY metric_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
            sql = f"SELECT metric_time, SUM(period_value) OVER ({over}) AS {value} FROM ({inner}) AS periods"
            return sql, relations, measure.time_dimension, grain
        if kind == "ratio":
            numerator, denominator = params.get("numerator"), params.get("denominator")
            if not numerator or not denominator:
                raise _Unsupported("the ratio lacks a numerator or a denominator")
            numerator = {"name": numerator} if isinstance(numerator, str) else numerator
            denominator = {"name": denominator} if isinstance(denominator, str) else denominator
            same = self._same_model(numerator, denominator, filters)
            if same:
                num, den = same
                grain = self._grain(node, num)
                time, _ = self._time(num)
                schema, table = self._relation(num.model)
                where_parts = [self._render_filter(f, num.model) for f in filters]
                where = f" WHERE {' AND '.join(f'({f})' for f in where_parts)}" if where_parts else ""
                sql = (f"SELECT DATE_TRUNC('{grain}', {time}) AS metric_time, "
                       f"CAST({self._aggregate(num)} AS DOUBLE) / NULLIF({self._aggregate(den)}, 0) AS {value} "
                       f"FROM {schema + '.' if schema else ''}{table}{where} GROUP BY 1")
                return sql, {(schema, table)}, num.time_dimension, grain
            num_sql, num_rel, time_dim, grain = self._query(numerator["name"], "numerator", depth + 1,
                                                            [*filters, *_filters_of(numerator.get("filter"))])
            den_sql, den_rel, _, _ = self._query(denominator["name"], "denominator", depth + 1,
                                                 [*filters, *_filters_of(denominator.get("filter"))])
            sql = (f"WITH n AS ({num_sql}), d AS ({den_sql}) "
                   f"SELECT COALESCE(n.metric_time, d.metric_time) AS metric_time, "
                   f"CAST(n.numerator AS DOUBLE) / NULLIF(d.denominator, 0) AS {value} "
                   f"FROM n FULL OUTER JOIN d ON n.metric_time = d.metric_time")
            return sql, num_rel | den_rel, time_dim, grain
        if kind == "derived":
            inputs = params.get("metrics") or []
            expression = params.get("expr")
            if not inputs or not expression:
                raise _Unsupported("the derived metric lacks its metrics or its expression")
            ctes, relations, names, time_dim, grain = [], set(), [], "", ""
            for item in inputs:
                item = {"name": item} if isinstance(item, str) else item
                if item.get("offset_window") or item.get("offset_to_grain"):
                    raise _Unsupported(f"it offsets {item.get('name')} in time, which Canon does not write")
                alias = item.get("alias") or item.get("name")
                sql, rel, td, gr = self._query(item["name"], alias, depth + 1, _filters_of(item.get("filter")))
                time_dim, grain = time_dim or td, grain or gr
                ctes.append(f"{alias} AS ({sql})")
                relations |= rel
                names.append(alias)
            try:
                tree = sqlglot.parse_one(str(expression), read="duckdb")
            except SqlglotError:
                raise _Unsupported(f"its expression {expression!r} does not parse") from None
            for column in tree.find_all(exp.Column):
                if column.name in names and not column.table:
                    column.set("table", exp.to_identifier(column.name))
            first = names[0]
            joins = " ".join(f"FULL OUTER JOIN {n} ON {n}.metric_time = {first}.metric_time" for n in names[1:])
            times = ", ".join(f"{n}.metric_time" for n in names)
            time_expr = f"COALESCE({times})" if len(names) > 1 else f"{first}.metric_time"
            sql = f"WITH {', '.join(ctes)} SELECT {time_expr} AS metric_time, {tree.sql('duckdb')} AS {value} FROM {first} {joins}"
            return sql.strip(), relations, time_dim, grain
        if kind == "conversion":
            conversion = params.get("conversion_type_params") or {}
            base, converted = conversion.get("base_measure"), conversion.get("conversion_measure")
            entity = conversion.get("entity")
            if not base or not converted or not entity:
                raise _Unsupported("the conversion metric lacks its base measure, conversion measure or entity")
            base_m, conv_m = self._measure(base), self._measure(converted)
            base_entity = self._entity_expr(base_m.model, entity)
            conv_entity = self._entity_expr(conv_m.model, entity)
            base_time, grain = self._time(base_m)
            conv_time, _ = self._time(conv_m)
            grain = self._grain(node, base_m)
            bs, bt = self._relation(base_m.model)
            cs, ct = self._relation(conv_m.model)
            window = conversion.get("window") or {}
            bound = ""
            if isinstance(window, dict) and window.get("count"):
                bound = f" AND c.ts < b.ts + INTERVAL '{int(window['count'])} {str(window.get('granularity') or 'day').lower()}'"
            calculation = str(conversion.get("calculation") or "conversion_rate").lower()
            measure = "COUNT(DISTINCT c.entity)" if calculation == "conversions" else \
                "CAST(COUNT(DISTINCT c.entity) AS DOUBLE) / NULLIF(COUNT(DISTINCT b.entity), 0)"
            sql = (f"WITH b AS (SELECT {base_entity} AS entity, {base_time} AS ts FROM {bs + '.' if bs else ''}{bt}), "
                   f"c AS (SELECT {conv_entity} AS entity, {conv_time} AS ts FROM {cs + '.' if cs else ''}{ct}) "
                   f"SELECT DATE_TRUNC('{grain}', b.ts) AS metric_time, {measure} AS {value} "
                   f"FROM b LEFT JOIN c ON c.entity = b.entity AND c.ts >= b.ts{bound} GROUP BY 1")
            return sql, {(bs, bt), (cs, ct)}, base_m.time_dimension, grain
        raise _Unsupported(f"metric type {kind} is not one Canon knows")

    def _entity_expr(self, model: dict, name: str) -> str:
        entity = next((e for e in model.get("entities") or [] if e.get("name") == name), None)
        if entity is None:
            raise _Unsupported(f"semantic model {model.get('name')} has no entity {name}")
        return self._element_expr(entity)

    def _same_model(self, numerator: dict, denominator: dict, filters) -> tuple[_Measure, _Measure] | None:
        """Both sides simple metrics over one semantic model, unfiltered: one query, no join."""
        nodes = [self.metrics.get(numerator.get("name")), self.metrics.get(denominator.get("name"))]
        if any(n is None or str(n.get("type") or "simple") != "simple" or n.get("filter") for n in nodes):
            return None
        if numerator.get("filter") or denominator.get("filter"):
            return None
        num, den = self._input_measure(nodes[0]), self._input_measure(nodes[1])
        if num.model is not den.model or num.filter or den.filter:
            return None
        return num, den

    def metric_sql(self, name: str) -> tuple[str, list[tuple[str, str]], str, str]:
        sql, relations, time_dimension, grain = self._query(name, name)
        try:
            sql = sqlglot.transpile(sql, read="duckdb", write=self.dialect, pretty=True)[0]
        except SqlglotError as exc:
            raise _Unsupported(f"its SQL could not be written in {self.dialect} ({exc})") from None
        return sql, sorted(relations), time_dimension, grain if grain in GRAINS else ""


def _raise(message: str):
    raise _Unsupported(message)
