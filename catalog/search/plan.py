"""What the ranking (catalog.search.engine) and the backends' SQL (catalog.search.backends) both speak: the tiers a
name can match in, the light fields each candidate is read with, and the filters. The engine picks a backend;
neither the backends nor this module import the engine."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.search.models import SearchDocument

EXACT, PREFIX, WORDS, TYPO, TEXT = 0, 1, 2, 3, 4

# The last word matches names as a prefix from 2 letters. In text only while typing (suggestions), from 4 letters: a
# prefix expands to every lexeme it starts, each a posting list to merge, and a submitted word is a whole word.
TEXT_PREFIX_MIN = 4

FACETS = ("kind", "source", "schema", "owner", "tag", "status")

LIGHT_FIELDS = ("id", "kind", "object_id", "name", "name_key", "path", "source_name", "schema_name", "owners", "tags", "status",
                "broken", "weight", "dataset_id")


@dataclass
class Filters:
    kind: str = ""
    source: str = ""
    schema: str = ""
    owner: str = ""
    tag: str = ""
    status: str = ""

    @classmethod
    def from_params(cls, params) -> "Filters":
        def value(name):
            return (params.get(name) or "").replace("\x00", "").strip()[:255]

        kind = value("kind")
        return cls(kind=kind if kind in dict(SearchDocument.KIND_CHOICES) else "", source=value("source"), schema=value("schema"),
                   owner=value("owner"), tag=value("tag"), status=value("status"))

    def active(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FACETS if getattr(self, name)}

    def sql(self, alias: str = "d", *, named: bool = False):
        """AND-ed conditions on the document table (empty when there are none), and their parameters: a list for %s
        placeholders, or with named=True a dict for %(filter_kind)s ones."""
        parts, values = [], []
        for name, column in (("kind", "kind"), ("source", "source_name"), ("schema", "schema_name"), ("status", "status")):
            if getattr(self, name):
                parts.append((name, f"{alias}.{column} = "))
                values.append(getattr(self, name))
        for name, column in (("owner", "owners"), ("tag", "tags")):
            if getattr(self, name):
                parts.append((name, f"{alias}.{column} LIKE "))
                values.append(f"%|{getattr(self, name).replace('|', '/')}|%")
        if named:
            return "".join(f" AND {sql}%(filter_{name})s" for name, sql in parts), {
                f"filter_{name}": value for (name, _), value in zip(parts, values)}
        return "".join(f" AND {sql}%s" for _, sql in parts), values
