"""Definitions that already compute what a new one would: asked before every save, and as the form is typed."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch

from catalog.metrics.models import MetricDefinition, MetricSynonym
from catalog.metrics.similarity import NAME_RATIO, DESCRIPTION_SIMILARITY, description_similarity, name_similarity, normal_name

# How much each kind of likeness weighs when candidates are ordered.
STRENGTH = {"sql": 5, "aggregate": 4, "synonym": 3, "name": 2, "description": 1}
MAX_CANDIDATES = 8
# The equal-fingerprint likeness in words: every difference the fingerprint ignores (sql.py's normalisation).
SAME_SQL_REASON = ("the same SQL, up to formatting, case, comments, alias names, mirrored comparisons (20 <= x is x >= 20), "
                   "BETWEEN written as >= and <=, the order of IN lists and of AND/OR operands, and count(1), sum(1) "
                   "or count(*)")


@dataclass
class Candidate:
    definition: MetricDefinition
    reasons: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    score: float = 0.0

    @property
    def owner_names(self) -> list[str]:
        return [u.get_full_name() or u.get_username() for u in self.definition.owners.all()] + list(self.definition.external_owners or [])

    @property
    def summary(self) -> str:
        """'Looks like active_users, certified, owned by Ana'."""
        owners = self.owner_names
        text = f"Looks like {self.definition.name}, {self.definition.status}"
        if owners:
            text += f", owned by {', '.join(owners)}"
        return text

    def as_dict(self) -> dict:
        d = self.definition
        return {
            "id": d.pk, "name": d.name, "title": d.title, "status": d.status, "broken": d.broken, "owners": self.owner_names,
            "url": d.get_absolute_url(), "reasons": self.reasons, "kinds": sorted(self.kinds), "summary": self.summary,
        }


def metric_find_duplicates(*, name: str = "", title: str = "", description: str = "", synonyms=(), fingerprint: str = "",
                           signature: str = "", signature_parts: dict | None = None, grain: str = "",
                           exclude_ids=()) -> list[Candidate]:
    """Existing definitions that look like this one, strongest likeness first (certified ahead of drafts)."""
    found: dict[int, Candidate] = {}

    def add(definition_id: int, kind: str, reason: str, score: float) -> None:
        candidate = found.setdefault(definition_id, Candidate(definition=None))
        if reason not in candidate.reasons:
            candidate.reasons.append(reason)
        candidate.kinds.add(kind)
        candidate.score = max(candidate.score, STRENGTH[kind] + score)

    others = MetricDefinition.objects.exclude(pk__in=list(exclude_ids))
    rows = list(others.values_list("id", "name", "title", "description", "fingerprint", "signature", "grain"))
    for pk, other_name, other_title, other_description, other_fp, other_sig, other_grain in rows:
        same_grain = not (grain and other_grain and grain != other_grain)  # weekly and monthly are two metrics
        if fingerprint and other_fp == fingerprint and same_grain:
            add(pk, "sql", SAME_SQL_REASON, 1.0)
        elif signature and other_sig == signature and same_grain:
            aggregates = ", ".join((signature_parts or {}).get("aggregates", [])[:2]).replace("«", "").replace("»", "")
            add(pk, "aggregate", f"the same aggregate over the same columns with the same filters ({aggregates})", 1.0)
        if name or title:
            best = max(name_similarity(name, other_name), name_similarity(title, other_title) if title and other_title else 0.0,
                       name_similarity(name, other_title) if other_title else 0.0)
            if best >= NAME_RATIO:
                add(pk, "name", f"a close name ({other_name}: {other_title})", best)
        for synonym in synonyms:
            if normal_name(synonym) == normal_name(other_name):
                add(pk, "name", f"your synonym {synonym} is its name", 1.0)
        if description and other_description:
            similarity = description_similarity(description, other_description)
            if similarity >= DESCRIPTION_SIMILARITY:
                add(pk, "description", "a similar description", similarity)

    wanted = {normal_name(n) for n in [name, *synonyms] if n}
    if wanted:
        for definition_id, synonym in MetricSynonym.objects.exclude(definition_id__in=list(exclude_ids)).values_list("definition_id", "name"):
            if normal_name(synonym) in wanted:
                add(definition_id, "synonym", f"{synonym} is already its synonym", 1.0)
            elif name and name_similarity(name, synonym) >= NAME_RATIO:
                add(definition_id, "name", f"a name close to its synonym {synonym}", name_similarity(name, synonym))

    if not found:
        return []
    definitions = MetricDefinition.objects.filter(pk__in=list(found)).prefetch_related(Prefetch("owners"))
    for definition in definitions:
        found[definition.pk].definition = definition
    candidates = [c for c in found.values() if c.definition is not None]
    order = {MetricDefinition.CERTIFIED: 0, MetricDefinition.DRAFT: 1, MetricDefinition.DEPRECATED: 2}
    candidates.sort(key=lambda c: (-c.score, order.get(c.definition.status, 3), c.definition.name))
    return candidates[:MAX_CANDIDATES]
