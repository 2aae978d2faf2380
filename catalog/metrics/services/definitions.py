"""Every write to a metric definition: pages, API, the dbt import and the demo all come through here.

Each edit is a new version holding the whole definition as it then was. Saving
first looks for definitions that already compute the same thing; finding some
stops the save unless the caller forces it with a reason, which is kept on the
version. Certifying, deprecating and editing are for owners and staff; any
logged-in user may propose a draft, watch a definition or add a synonym.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.core.sqlnames import SCHEME_DIALECTS
from catalog.inventory.models import Column
from catalog.metrics.models import (
    MetricColumnUse,
    MetricDatasetUse,
    MetricDefinition,
    MetricEvent,
    MetricSynonym,
    MetricTag,
    MetricVersion,
)
from catalog.metrics.services.duplicates import Candidate, metric_find_duplicates
from catalog.metrics.services.health import metric_apply_health
from catalog.metrics.services.resolve import SqlCheck, metric_check_sql
from catalog.metrics.similarity import slug
from catalog.metrics.sql import DIALECT_LABELS, Analysis
from catalog.search.index import search_forget_metric, search_index_metrics
from catalog.sources.models import Source

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
RESERVED_NAMES = {"new", "compare", "check", "api"}
FIELDS = ["name", "title", "description", "sql", "dialect", "source", "time_dimension", "grain", "unit", "format", "owners", "tags",
          "synonyms", "external_owners"]
SQL_FIELDS = {"sql", "dialect", "source"}
LIKENESS_FIELDS = {"name", "title", "description", "sql", "dialect", "source", "synonyms", "grain"}


class MetricError(ValueError):
    """Bad input. `errors` maps a field (or "__all__") to messages fit to show."""

    def __init__(self, errors: dict[str, list[str]] | str, *, check: SqlCheck | None = None):
        self.errors = {"__all__": [errors]} if isinstance(errors, str) else errors
        self.check = check  # the SQL check made on the way, if one was: the form's live panel shows it without a second one
        super().__init__("; ".join(f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v) for k, v in self.errors.items()))


class MetricPermissionError(PermissionError):
    """The user may not do this to this definition. The message is fit to show."""


class DuplicateMetric(Exception):
    """The definition looks like existing ones; save again with force and a reason to keep it anyway."""

    def __init__(self, candidates: list[Candidate], check: SqlCheck | None = None):
        self.candidates, self.check = candidates, check
        super().__init__("; ".join(c.summary for c in candidates))


@dataclass
class Prepared:
    values: dict
    check: SqlCheck


# ---------------------------------------------------------------- cleaning


def _list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"[,\n]", value)
    return [str(v).strip() for v in value if str(v).strip()]


def _source(value):
    if value in (None, ""):
        return None
    if isinstance(value, Source):
        return value
    source = Source.objects.filter(name=str(value)).first() or (Source.objects.filter(pk=value).first() if str(value).isdigit() else None)
    if source is None:
        raise MetricError({"source": [f"There is no source named '{value}'."]})
    return source


def _users(values) -> list:
    users, missing = [], []
    model = get_user_model()
    for value in values or []:
        if isinstance(value, model):
            users.append(value)
            continue
        found = model.objects.filter(username=str(value)).first() or model.objects.filter(email__iexact=str(value)).first()
        (users if found else missing).append(found or str(value))
    if missing:
        raise MetricError({"owners": [f"No user named {', '.join(missing)}."]})
    return list({u.pk: u for u in users}.values())


def metric_values(definition: MetricDefinition) -> dict:
    """The definition's editable fields, as metric_register and metric_update take them."""
    return {
        "name": definition.name, "title": definition.title, "description": definition.description, "sql": definition.sql,
        "dialect": definition.dialect, "source": definition.source, "time_dimension": definition.time_dimension,
        "grain": definition.grain, "unit": definition.unit, "format": definition.format,
        "owners": list(definition.owners.all()), "tags": [t.name for t in definition.tags.all()],
        "synonyms": [s.name for s in definition.synonyms.all()], "external_owners": list(definition.external_owners or []),
    }


def snapshot_of(values: dict) -> dict:
    """What a version keeps: plain JSON, users by username, the source by name."""
    return {
        "name": values["name"], "title": values["title"], "description": values["description"], "sql": values["sql"],
        "dialect": values["dialect"], "source": values["source"].name if values["source"] else None,
        "time_dimension": values["time_dimension"], "grain": values["grain"], "unit": values["unit"], "format": values["format"],
        "owners": sorted(u.get_username() for u in values["owners"]), "tags": sorted(values["tags"]),
        "synonyms": sorted(values["synonyms"]), "external_owners": list(values.get("external_owners") or []),
    }


def metric_prepare(data: dict, *, instance: MetricDefinition | None = None, reuse_analysis: bool = True) -> Prepared:
    """Clean and check a definition's fields (missing ones keep the instance's). Raises MetricError with every problem found."""
    values = metric_values(instance) if instance else {
        "name": "", "title": "", "description": "", "sql": "", "dialect": "", "source": None, "time_dimension": "", "grain": "",
        "unit": "", "format": "number", "owners": [], "tags": [], "synonyms": [], "external_owners": [],
    }
    errors: dict[str, list[str]] = {}
    for key in FIELDS:
        if key not in data:
            continue
        try:
            if key == "source":
                values["source"] = _source(data["source"])
            elif key == "owners":
                values["owners"] = _users(_list(data["owners"]) if isinstance(data["owners"], str) else data["owners"])
            elif key in ("tags", "synonyms", "external_owners"):
                values[key] = _list(data[key])
            else:
                values[key] = "" if data[key] is None else str(data[key]).strip() if key != "sql" else str(data[key])
        except MetricError as exc:
            errors.update(exc.errors)

    values["name"] = values["name"].strip().lower()
    name = values["name"]
    others = MetricDefinition.objects.exclude(pk=instance.pk) if instance else MetricDefinition.objects.all()
    if not NAME_RE.match(name):
        errors.setdefault("name", []).append("A name is lower-case letters, digits and underscores, starting with a letter: weekly_active_users.")
    elif name in RESERVED_NAMES:
        errors.setdefault("name", []).append(f"'{name}' is reserved; choose another name.")
    elif others.filter(name=name).exists():
        errors.setdefault("name", []).append(f"A definition named {name} already exists.")
    else:
        taken = MetricSynonym.objects.filter(name=name).exclude(definition=instance).select_related("definition").first()
        if taken:
            errors.setdefault("name", []).append(f"{name} is already a synonym of {taken.definition.name}.")
    if not values["title"]:
        values["title"] = name.replace("_", " ").capitalize() if name else ""
    if len(values["title"]) > 200:
        errors.setdefault("title", []).append("A title is at most 200 characters.")
    if len(values["description"]) > 20_000:
        errors.setdefault("description", []).append("A description is at most 20,000 characters.")
    if not values["dialect"]:
        values["dialect"] = SCHEME_DIALECTS.get(values["source"].engine, "postgres") if values["source"] else "postgres"
    if values["dialect"] not in DIALECT_LABELS:
        errors.setdefault("dialect", []).append(f"Choose one of: {', '.join(DIALECT_LABELS)}.")
    if values["grain"] not in dict(MetricDefinition.GRAIN_CHOICES):
        errors.setdefault("grain", []).append(f"Choose one of: {', '.join(g for g, _ in MetricDefinition.GRAIN_CHOICES if g)}.")
    if values["format"] not in dict(MetricDefinition.FORMAT_CHOICES):
        errors.setdefault("format", []).append(f"Choose one of: {', '.join(dict(MetricDefinition.FORMAT_CHOICES))}.")
    for key, limit in (("time_dimension", 255), ("unit", 50)):
        if len(values[key]) > limit:
            errors.setdefault(key, []).append(f"At most {limit} characters.")

    tags = []
    for tag in values["tags"]:
        cleaned = "-".join(slug(tag).split("_"))[:50]
        if cleaned and cleaned not in tags:
            tags.append(cleaned)
    values["tags"] = tags
    synonyms = []
    for synonym in values["synonyms"]:
        cleaned = slug(synonym)[:100]
        if not cleaned or cleaned == name or cleaned in synonyms:
            continue
        clash = others.filter(name=cleaned).first()
        if clash:
            errors.setdefault("synonyms", []).append(f"{cleaned} is the name of another definition ({clash.name}).")
            continue
        taken = MetricSynonym.objects.filter(name=cleaned).exclude(definition=instance).select_related("definition").first()
        if taken:
            errors.setdefault("synonyms", []).append(f"{cleaned} is already a synonym of {taken.definition.name}.")
            continue
        synonyms.append(cleaned)
    values["synonyms"] = synonyms

    check = SqlCheck(sql=values["sql"], dialect=values["dialect"])
    checked = None
    unchanged = reuse_analysis and instance is not None and (values["sql"], values["dialect"], values["source"]) == (
        instance.sql, instance.dialect, instance.source)
    if not values["sql"].strip():
        errors.setdefault("sql", []).append("Write the SQL query that computes the metric.")
    elif unchanged:
        # Same SQL as stored: what its analysis found is on the instance (parsing again would find the same).
        check.analysis = Analysis(warnings=list(instance.warnings or []), fingerprint=instance.fingerprint,
                                  signature=instance.signature, signature_parts=dict(instance.signature_parts or {}))
    elif values["dialect"] in DIALECT_LABELS:
        check = metric_check_sql(values["sql"], values["dialect"], source=values["source"])
        checked = check
        if check.error:
            errors.setdefault("sql", []).append(str(check.error))
    if errors:
        raise MetricError(errors, check=checked)
    return Prepared(values=values, check=check)


def metric_check(data: dict, *, instance: MetricDefinition | None = None) -> dict:
    """Everything the form shows while typing, without saving: field errors, SQL problems, links, duplicates."""
    checked = None
    try:
        prepared = metric_prepare(data, instance=instance, reuse_analysis=False)
        errors: dict[str, list[str]] = {}
    except MetricError as exc:
        errors = exc.errors
        prepared = None
        checked = exc.check
    sql_error = None
    check = prepared.check if prepared else checked
    if check is None and (data.get("sql") or "").strip():
        dialect = data.get("dialect") or (instance.dialect if instance else "postgres")
        source = None
        try:
            source = _source(data.get("source")) if data.get("source") else (instance.source if instance else None)
        except MetricError:
            pass
        check = metric_check_sql(data.get("sql", ""), dialect if dialect in DIALECT_LABELS else "postgres", source=source)
    if check is not None and check.error:
        sql_error = check.error
    values = prepared.values if prepared else {}
    candidates = metric_find_duplicates(
        name=values.get("name") or slug(data.get("name", "")), title=values.get("title") or data.get("title", ""),
        description=values.get("description") or data.get("description", ""),
        synonyms=values.get("synonyms") or [slug(s) for s in _list(data.get("synonyms"))],
        fingerprint=check.analysis.fingerprint if check and check.ok else "",
        signature=check.analysis.signature if check and check.ok else "",
        signature_parts=check.analysis.signature_parts if check and check.ok else None,
        grain=values.get("grain") or data.get("grain", ""), exclude_ids=[instance.pk] if instance else [],
    )
    return {"errors": errors, "sql_error": sql_error, "check": check, "candidates": candidates}


# ---------------------------------------------------------------- links


def _relink(definition: MetricDefinition, check: SqlCheck, *, carry_over: bool) -> None:
    """Store the datasets and columns the SQL reads. With carry_over, links to what the SQL still names but the
    catalog no longer holds are kept, so that editing a broken definition without fixing it leaves it broken."""
    old_datasets = list(definition.dataset_uses.select_related("dataset")) if carry_over else []
    old_columns = list(definition.column_uses.all()) if carry_over else []
    datasets = {d.pk: d for d in check.used_datasets()}
    dataset_rows = {pk: MetricDatasetUse(definition=definition, dataset_id=pk, dataset_name=d.qualified_name,
                                         referenced_as=next((r.qualified_name for r, k in check.analysis.tables if k == pk), ""))
                    for pk, d in datasets.items()}
    column_ids = {}
    if check.analysis.columns:
        for pk, dataset_id, name in Column.objects.filter(dataset_id__in=list(datasets)).values_list("id", "dataset_id", "name"):
            column_ids[(dataset_id, name)] = pk
    column_rows = {(dataset, name): MetricColumnUse(definition=definition, dataset=dataset, column_id=column_ids.get((dataset.pk, name)),
                                                    column_name=name, data_type=data_type)
                   for dataset, name, data_type in check.used_columns()}
    column_rows = {(d.pk, n): row for (d, n), row in column_rows.items()}

    if carry_over:
        unresolved = [ref for ref, key in check.analysis.tables if key is None]
        for use in old_datasets:
            schema, _, name = use.dataset_name.partition(".")
            still_named = any(ref.name.lower() == name.lower() and (not ref.schema or ref.schema.lower() == schema.lower())
                              for ref in unresolved)
            if still_named and use.dataset_id not in dataset_rows:
                dataset_rows[use.dataset_id] = MetricDatasetUse(definition=definition, dataset_id=use.dataset_id,
                                                                dataset_name=use.dataset_name, referenced_as=use.referenced_as)
                for column in old_columns:
                    if column.dataset_id == use.dataset_id:
                        column_rows.setdefault((column.dataset_id, column.column_name), _copy_column(definition, column))
        missing = {(key, name.lower()) for key, name in check.analysis.missing_columns}
        for column in old_columns:
            if (column.dataset_id, column.column_name.lower()) in missing:
                column_rows.setdefault((column.dataset_id, column.column_name), _copy_column(definition, column))

    definition.dataset_uses.all().delete()
    definition.column_uses.all().delete()
    MetricDatasetUse.objects.bulk_create(dataset_rows.values())
    MetricColumnUse.objects.bulk_create(column_rows.values())


def _copy_column(definition, column: MetricColumnUse) -> MetricColumnUse:
    return MetricColumnUse(definition=definition, dataset_id=column.dataset_id, column_id=column.column_id,
                           column_name=column.column_name, data_type=column.data_type)


def metric_link_new_tables(source, names) -> int:
    """Definitions whose SQL names tables the catalog lacked, one of `names` (datasets that just appeared in
    `source`) among them: resolve them again and link what the catalog now holds. Returns how many were relinked."""
    wanted = {n.lower() for n in names}
    relinked = 0
    for definition in MetricDefinition.objects.filter(warnings__isnull=False).exclude(warnings=[]).only(
        "id", "sql", "dialect", "source", "warnings"
    ):
        if definition.source_id not in (None, source.pk):
            continue
        # "Table sales.Order Lines is not in the catalog." -> "order lines"
        missing = [w[len("Table "):].split(" is ", 1)[0].rsplit(".", 1)[-1].lower() for w in definition.warnings if w.startswith("Table ")]
        if not wanted.intersection(missing):
            continue
        check = metric_check_sql(definition.sql, definition.dialect, source=definition.source)
        if not check.ok or check.warnings == definition.warnings:
            continue
        _relink(definition, check, carry_over=True)
        MetricDefinition.objects.filter(pk=definition.pk).update(warnings=check.warnings, fingerprint=check.analysis.fingerprint,
                                                                  signature=check.analysis.signature,
                                                                  signature_parts=check.analysis.signature_parts)
        relinked += 1
    return relinked


# ---------------------------------------------------------------- writes


def _require_user(user):
    if user is None or not user.is_authenticated:
        raise MetricPermissionError("Log in to do this.")


def _require_governor(definition: MetricDefinition, user, action: str):
    _require_user(user)
    if not definition.can_govern(user):
        raise MetricPermissionError(f"Only the owners of {definition.name} or staff can {action} it.")


def _apply(definition: MetricDefinition, values: dict, check: SqlCheck) -> None:
    for key in ("name", "title", "description", "sql", "dialect", "source", "time_dimension", "grain", "unit", "format",
                "external_owners"):
        setattr(definition, key, values[key])
    definition.warnings = check.warnings
    definition.fingerprint = check.analysis.fingerprint
    definition.signature = check.analysis.signature
    definition.signature_parts = check.analysis.signature_parts


def _set_relations(definition: MetricDefinition, values: dict) -> None:
    definition.owners.set(values["owners"])
    tags = []
    for name in values["tags"]:
        tags.append(MetricTag.objects.get_or_create(name=name)[0])
    definition.tags.set(tags)
    definition.synonyms.exclude(name__in=values["synonyms"]).delete()
    existing = set(definition.synonyms.values_list("name", flat=True))
    MetricSynonym.objects.bulk_create([MetricSynonym(definition=definition, name=s) for s in values["synonyms"] if s not in existing])


def _duplicates(values: dict, check: SqlCheck, *, exclude_ids) -> list[Candidate]:
    return metric_find_duplicates(
        name=values["name"], title=values["title"], description=values["description"], synonyms=values["synonyms"],
        fingerprint=check.analysis.fingerprint, signature=check.analysis.signature, signature_parts=check.analysis.signature_parts,
        grain=values["grain"], exclude_ids=exclude_ids,
    )


def metric_register(*, user, data: dict, message: str = "", force: bool = False, reason: str = "",
                    origin: str = MetricDefinition.MANUAL, dbt_unique_id: str = "", check_duplicates: bool = True) -> MetricDefinition:
    """A new definition, as a draft, owned by its author unless owners are given. Raises MetricError or DuplicateMetric."""
    if origin == MetricDefinition.MANUAL:
        _require_user(user)
    prepared = metric_prepare(data)
    values, check = prepared.values, prepared.check
    if not values["owners"] and user is not None and user.is_authenticated:
        values["owners"] = [user]
    candidates = _duplicates(values, check, exclude_ids=()) if check_duplicates else []
    if candidates and not force:
        raise DuplicateMetric(candidates, check)
    if candidates and not (reason or "").strip():
        raise MetricError({"reason": ["Say why this definition is needed although it looks like " +
                                      ", ".join(c.definition.name for c in candidates) + "."]})
    author = user if user is not None and user.is_authenticated else None
    try:
        with transaction.atomic():
            definition = MetricDefinition(created_by=author, origin=origin, dbt_unique_id=dbt_unique_id, version=1)
            _apply(definition, values, check)
            definition.save()
            _set_relations(definition, values)
            _relink(definition, check, carry_over=False)
            MetricVersion.objects.create(
                definition=definition, number=1, snapshot=snapshot_of(values), author=author, message=(message or "registered")[:500],
                override_reason=(reason or "").strip() if candidates else "",
                override_candidates=[c.as_dict() for c in candidates],
            )
            search_index_metrics([definition.pk])
    except IntegrityError:
        raise MetricError({"name": [f"A definition named {values['name']} already exists."]}) from None
    return definition


def metric_update(definition: MetricDefinition, *, user, data: dict, message: str = "", force: bool = False, reason: str = "",
                  check_duplicates: bool = True, internal: bool = False) -> MetricDefinition:
    """A new version with the given fields changed (others kept). Nothing changes, no version is made."""
    if not internal:
        _require_governor(definition, user, "edit")
    previous = snapshot_of(metric_values(definition))
    prepared = metric_prepare(data, instance=definition)
    values, check = prepared.values, prepared.check
    snapshot = snapshot_of(values)
    if snapshot == previous:
        return definition
    changed = {k for k in snapshot if snapshot[k] != previous.get(k)}
    candidates = []
    if check_duplicates and changed & LIKENESS_FIELDS:
        accepted = {c["id"] for v in definition.versions.exclude(override_candidates=[]) for c in v.override_candidates}
        candidates = _duplicates(values, check, exclude_ids={definition.pk, *accepted})
        if candidates and not force:
            raise DuplicateMetric(candidates, check)
        if candidates and not (reason or "").strip():
            raise MetricError({"reason": ["Say why this definition is needed although it looks like " +
                                          ", ".join(c.definition.name for c in candidates) + "."]})
    author = user if user is not None and user.is_authenticated else None
    try:
        with transaction.atomic():
            locked = MetricDefinition.objects.select_for_update().get(pk=definition.pk)
            definition.version = locked.version + 1
            _apply(definition, values, check)
            definition.save()
            _set_relations(definition, values)
            if changed & SQL_FIELDS:
                _relink(definition, check, carry_over=True)
            MetricVersion.objects.create(
                definition=definition, number=definition.version, snapshot=snapshot, author=author,
                message=(message or "changed " + ", ".join(sorted(changed)))[:500],
                override_reason=(reason or "").strip() if candidates else "", override_candidates=[c.as_dict() for c in candidates],
            )
            if changed & SQL_FIELDS:
                metric_apply_health([definition.pk], user=author)
                definition.refresh_from_db(fields=["broken", "broken_reasons", "broken_since"])
            search_index_metrics([definition.pk])
    except IntegrityError:
        raise MetricError({"name": [f"A definition named {values['name']} already exists."]}) from None
    return definition


def metric_restore(definition: MetricDefinition, *, user, number: int) -> MetricDefinition:
    """Make an old version current again, as a new version."""
    _require_governor(definition, user, "restore")
    version = definition.versions.filter(number=number).first()
    if version is None:
        raise MetricError(f"{definition.name} has no version {number}.")
    snapshot = dict(version.snapshot)
    model = get_user_model()
    snapshot["owners"] = list(model.objects.filter(username__in=snapshot.get("owners", []), is_active=True)) or list(definition.owners.all())
    snapshot["source"] = Source.objects.filter(name=snapshot.get("source")).first() if snapshot.get("source") else None
    data = {k: v for k, v in snapshot.items() if k in FIELDS}
    return metric_update(definition, user=user, data=data, message=f"restored version {number}", check_duplicates=False)


def metric_set_status(definition: MetricDefinition, *, user, status: str, replaced_by=None, note: str = "") -> MetricDefinition:
    """Certify, deprecate (optionally pointing at the definition to use instead) or return to draft. Owners and staff only."""
    if status not in dict(MetricDefinition.STATUS_CHOICES):
        raise MetricError({"status": [f"Choose one of: {', '.join(dict(MetricDefinition.STATUS_CHOICES))}."]})
    _require_governor(definition, user, {"certified": "certify", "deprecated": "deprecate"}.get(status, "change the status of"))
    replacement = None
    if status == MetricDefinition.DEPRECATED and replaced_by:
        replacement = replaced_by if isinstance(replaced_by, MetricDefinition) else MetricDefinition.objects.filter(name=str(replaced_by).strip()).first()
        if replacement is None:
            raise MetricError({"replaced_by": [f"There is no definition named {replaced_by}."]})
        if replacement.pk == definition.pk:
            raise MetricError({"replaced_by": ["A definition cannot replace itself."]})
        if replacement.status == MetricDefinition.DEPRECATED:
            raise MetricError({"replaced_by": [f"{replacement.name} is deprecated too; point at the one to use."]})
    if status == MetricDefinition.CERTIFIED and definition.broken:
        raise MetricError({"status": [f"{definition.name} is broken ({'; '.join(definition.broken_reasons)}): fix its SQL before certifying it."]})
    if status == definition.status and replacement == definition.replaced_by:
        return definition
    with transaction.atomic():
        MetricEvent.objects.create(definition=definition, kind=MetricEvent.STATUS, old_status=definition.status, new_status=status,
                                   note=(note or "").strip()[:2000], user=user)
        definition.status = status
        definition.replaced_by = replacement if status == MetricDefinition.DEPRECATED else None
        definition.save(update_fields=["status", "replaced_by", "updated_at"])
        search_index_metrics([definition.pk])
    return definition


def metric_add_synonym(definition: MetricDefinition, *, user, synonym: str) -> MetricDefinition:
    """Another name for the definition ("attrition" for churn). Any logged-in user: it is how a would-be duplicate is avoided."""
    _require_user(user)
    cleaned = slug(synonym)
    if not cleaned:
        raise MetricError({"synonyms": ["Give the synonym."]})
    current = [s.name for s in definition.synonyms.all()]
    if cleaned in current or cleaned == definition.name:
        return definition
    return metric_update(definition, user=user, data={"synonyms": [*current, cleaned]}, message=f"added synonym {cleaned}",
                         check_duplicates=False, internal=True)


def metric_watch(definition: MetricDefinition, *, user, watching: bool = True) -> bool:
    _require_user(user)
    if watching:
        definition.watchers.add(user)
    else:
        definition.watchers.remove(user)
    return watching


def metric_delete(definition: MetricDefinition, *, user) -> None:
    _require_governor(definition, user, "delete")
    search_forget_metric(definition)
    definition.delete()


def metric_recheck(definition: MetricDefinition, *, user=None) -> MetricDefinition:
    """Re-resolve the SQL against the catalog as it is now (no new version), e.g. after a deliberate, harmless retype."""
    if user is not None:
        _require_governor(definition, user, "re-check")
    check = metric_check_sql(definition.sql, definition.dialect, source=definition.source)
    if not check.ok:
        raise MetricError({"sql": [str(check.error)]})
    with transaction.atomic():
        _relink(definition, check, carry_over=False)
        MetricDefinition.objects.filter(pk=definition.pk).update(
            warnings=check.warnings, fingerprint=check.analysis.fingerprint, signature=check.analysis.signature,
            signature_parts=check.analysis.signature_parts, updated_at=timezone.now())
        metric_apply_health([definition.pk], user=user)
        search_index_metrics([definition.pk])
    definition.refresh_from_db()
    return definition


# The fields metrics_refingerprint reads and writes: nothing else, so that a migration calling it
# keeps working when later migrations add fields to the model.
REFINGERPRINT_FIELDS = ("id", "sql", "dialect", "source", "fingerprint", "signature", "signature_parts")


def metrics_refingerprint(*, batch_size: int = 200) -> tuple[int, int]:
    """Every stored definition's fingerprint, signature and signature parts computed again by
    metric_check_sql, as a definition saved now would get them. Returns (changed, unreadable).

    The duplicate check compares a new definition's fingerprint with the stored ones, so a change of
    what sql.py takes as the same SQL (its normalisation) needs this run once over the stored
    definitions, from a data migration (metrics/0002 does it for the normalisation of 6c055e1) or
    `manage.py metrics_refingerprint`. Nothing else changes: no version, no links, no health. A
    definition whose SQL no longer passes the check (a tighter bound, a dialect gone) keeps its
    values and is counted as unreadable. Batches of `batch_size` definitions, in id order.
    """
    changed = unreadable = 0
    last_id = 0
    while True:
        batch = list(MetricDefinition.objects.filter(pk__gt=last_id).order_by("pk").only(*REFINGERPRINT_FIELDS)[:batch_size])
        if not batch:
            return changed, unreadable
        last_id = batch[-1].pk
        sources = Source.objects.only("id", "name").in_bulk({d.source_id for d in batch if d.source_id})
        updated = []
        for definition in batch:
            if definition.dialect not in DIALECT_LABELS:
                unreadable += 1
                continue
            check = metric_check_sql(definition.sql, definition.dialect, source=sources.get(definition.source_id))
            if not check.ok:
                unreadable += 1
                continue
            now = (check.analysis.fingerprint, check.analysis.signature, check.analysis.signature_parts)
            if now != (definition.fingerprint, definition.signature, definition.signature_parts):
                definition.fingerprint, definition.signature, definition.signature_parts = now
                updated.append(definition)
        MetricDefinition.objects.bulk_update(updated, ["fingerprint", "signature", "signature_parts"])
        changed += len(updated)
