"""The difference between two schema documents, as a list of changes. Django-free.

Documents are the ones catalog.inventory.fingerprint.schema_document builds.
Columns are matched by the engine's native id where there is one (so RENAME
COLUMN is a rename), then by name; a column removed and one added with the same
type at the same position, with no native id to tell, is a "possible rename".
"""

from __future__ import annotations

from dataclasses import dataclass, field

BREAKING = "breaking"
NON_BREAKING = "non_breaking"

DATASET_ADDED = "dataset_added"
DATASET_REMOVED = "dataset_removed"
DATASET_RENAMED = "dataset_renamed"
KIND_CHANGED = "kind_changed"
DEFINITION_CHANGED = "definition_changed"
TABLE_COMMENT_CHANGED = "table_comment_changed"
COLUMN_ADDED = "column_added"
COLUMN_REMOVED = "column_removed"
COLUMN_RENAMED = "column_renamed"
COLUMN_POSSIBLY_RENAMED = "column_possibly_renamed"
TYPE_CHANGED = "type_changed"
NULLABILITY_CHANGED = "nullability_changed"
DEFAULT_CHANGED = "default_changed"
PRIMARY_KEY_CHANGED = "primary_key_changed"
COMMENT_CHANGED = "comment_changed"
GENERATED_CHANGED = "generated_changed"

LABELS = {
    DATASET_ADDED: "dataset added",
    DATASET_REMOVED: "dataset removed",
    DATASET_RENAMED: "dataset renamed",
    KIND_CHANGED: "kind changed",
    DEFINITION_CHANGED: "view definition changed",
    TABLE_COMMENT_CHANGED: "table comment changed",
    COLUMN_ADDED: "column added",
    COLUMN_REMOVED: "column removed",
    COLUMN_RENAMED: "column renamed",
    COLUMN_POSSIBLY_RENAMED: "possible column rename",
    TYPE_CHANGED: "type changed",
    NULLABILITY_CHANGED: "nullability changed",
    DEFAULT_CHANGED: "default changed",
    PRIMARY_KEY_CHANGED: "primary key changed",
    COMMENT_CHANGED: "column comment changed",
    GENERATED_CHANGED: "generation changed",
}


@dataclass(frozen=True)
class Change:
    kind: str
    severity: str
    column: str = ""
    old: str | None = None
    new: str | None = None
    detail: dict = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        return LABELS.get(self.kind, self.kind)

    def describe(self) -> str:
        where = f"{self.column}: " if self.column else ""
        if self.kind in (COLUMN_ADDED, COLUMN_REMOVED):
            return f"{self.label} {self.column} ({self.new or self.old})"
        if self.kind in (COLUMN_RENAMED, COLUMN_POSSIBLY_RENAMED, DATASET_RENAMED):
            return f"{self.label}: {self.old} → {self.new}"
        if self.old is not None or self.new is not None:
            return f"{where}{self.label}: {_show(self.old)} → {_show(self.new)}"
        return f"{where}{self.label}"


def _show(value) -> str:
    return "none" if value in (None, "") else str(value)


def _nullability(nullable: bool) -> str:
    return "NULL" if nullable else "NOT NULL"


def diff_schemas(old: dict | None, new: dict | None, *, old_name: str = "", new_name: str = "") -> list[Change]:
    """Changes that turn `old` into `new`. None stands for "the dataset does not exist"."""
    if old is None and new is None:
        return []
    if old is None:
        return [Change(DATASET_ADDED, NON_BREAKING, new=new_name)]
    if new is None:
        return [Change(DATASET_REMOVED, BREAKING, old=old_name)]

    changes: list[Change] = []
    if old_name and new_name and old_name != new_name:
        changes.append(Change(DATASET_RENAMED, BREAKING, old=old_name, new=new_name))
    if old.get("kind") != new.get("kind"):
        changes.append(Change(KIND_CHANGED, BREAKING, old=old.get("kind"), new=new.get("kind")))
    if (old.get("comment") or "") != (new.get("comment") or ""):
        changes.append(Change(TABLE_COMMENT_CHANGED, NON_BREAKING, old=old.get("comment"), new=new.get("comment")))
    if (old.get("definition") or "") != (new.get("definition") or "") and not _only_newly_qualified(old, new):
        changes.append(Change(DEFINITION_CHANGED, NON_BREAKING, detail={"old": old.get("definition"), "new": new.get("definition")}))

    old_cols = list(old.get("columns", []))
    new_cols = list(new.get("columns", []))
    pairs, removed, added = _match_columns(old_cols, new_cols)

    for before, after in pairs:
        changes.extend(_column_changes(before, after))

    # Without native ids, a removed and an added column of one type at one position may be a rename.
    still_removed = []
    for before in removed:
        twin = next((a for a in added if a.get("type") == before.get("type") and a.get("position") == before.get("position")
                     and not (a.get("native_id") and before.get("native_id"))), None)
        if twin is not None:
            added.remove(twin)
            changes.append(Change(COLUMN_POSSIBLY_RENAMED, BREAKING, column=twin["name"], old=before["name"], new=twin["name"]))
            changes.extend(c for c in _column_changes(before, twin) if c.kind != COLUMN_RENAMED)
        else:
            still_removed.append(before)
    for before in still_removed:
        changes.append(Change(COLUMN_REMOVED, BREAKING, column=before["name"], old=before.get("type")))
    for after in added:
        breaking = not after.get("nullable", True) and after.get("default") in (None, "")
        changes.append(Change(COLUMN_ADDED, BREAKING if breaking else NON_BREAKING, column=after["name"], new=after.get("type"),
                              detail={"nullable": after.get("nullable", True)}))
    return changes


def _match_columns(old_cols, new_cols):
    pairs, used_new = [], set()
    new_by_native = {c.get("native_id"): i for i, c in enumerate(new_cols) if c.get("native_id")}
    new_by_name = {c["name"]: i for i, c in enumerate(new_cols)}
    unmatched_old = []
    for before in old_cols:
        index = new_by_native.get(before.get("native_id")) if before.get("native_id") else None
        if index is None:
            index = new_by_name.get(before["name"])
            if index is not None and before.get("native_id") and new_cols[index].get("native_id") \
                    and new_cols[index]["native_id"] != before["native_id"]:
                index = None  # same name, another column: dropped and re-created
        if index is None or index in used_new:
            unmatched_old.append(before)
            continue
        used_new.add(index)
        pairs.append((before, new_cols[index]))
    added = [c for i, c in enumerate(new_cols) if i not in used_new]
    return pairs, unmatched_old, added


def _column_changes(before: dict, after: dict) -> list[Change]:
    name = after["name"]
    changes = []
    if before["name"] != after["name"]:
        changes.append(Change(COLUMN_RENAMED, BREAKING, column=name, old=before["name"], new=after["name"]))
    if before.get("type") != after.get("type"):
        changes.append(Change(TYPE_CHANGED, BREAKING, column=name, old=before.get("type"), new=after.get("type")))
    if bool(before.get("nullable", True)) != bool(after.get("nullable", True)):
        became_not_null = not after.get("nullable", True)
        changes.append(Change(NULLABILITY_CHANGED, BREAKING if became_not_null else NON_BREAKING, column=name,
                              old=_nullability(before.get("nullable", True)), new=_nullability(after.get("nullable", True))))
    if before.get("default") != after.get("default"):
        changes.append(Change(DEFAULT_CHANGED, NON_BREAKING, column=name, old=before.get("default"), new=after.get("default")))
    if bool(before.get("primary_key")) != bool(after.get("primary_key")):
        changes.append(Change(PRIMARY_KEY_CHANGED, NON_BREAKING, column=name,
                              old="primary key" if before.get("primary_key") else "not in key",
                              new="primary key" if after.get("primary_key") else "not in key"))
    if (before.get("comment") or "") != (after.get("comment") or ""):
        changes.append(Change(COMMENT_CHANGED, NON_BREAKING, column=name, old=before.get("comment"), new=after.get("comment")))
    old_generated, new_generated = before.get("generated") or "", after.get("generated") or ""
    if old_generated != new_generated and not _generation_first_recorded(before, after):
        # A column the engine now fills itself refuses the writes that named it; one it no longer fills breaks nothing.
        changes.append(Change(GENERATED_CHANGED, BREAKING if new_generated else NON_BREAKING, column=name,
                              old=old_generated or "not generated", new=new_generated or "not generated"))
    return changes


def _only_newly_qualified(old: dict, new: dict) -> bool:
    """A PostgreSQL view's SQL as the catalog read it before view SQL was read under an empty search path
    (tables in public printed without their schema) against the same SQL read now: the same view, not a change."""
    before, after = old.get("definition") or "", new.get("definition") or ""
    return "public." not in before and "public." in after and after.replace("public.", "") == before


def _generation_first_recorded(before: dict, after: dict) -> bool:
    """The catalog learning what the default already said, not a change: documents written before "generated"
    was recorded hold no such key, and the engines that had generated columns then said so in the default
    (GENERATED ALWAYS AS ..., IDENTITY, AUTO_INCREMENT), which a real change of generation moves too."""
    return "generated" not in before and before.get("default") not in (None, "") and before.get("default") == after.get("default")
