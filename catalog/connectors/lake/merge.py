"""Merging what a dataset's files say into one dataset: the columns of files whose schemas differ
(variants, with a warning naming what each group of files lacks or types differently), the partition
columns of Hive folders, and the warnings that name files relative to the dataset's folder.

Pure: lists and dicts in, columns and warnings out; the crawl (connector.py) lists and reads.
"""

from __future__ import annotations

from catalog.connectors.base import ColumnMeta
from catalog.connectors.lake.formats import merge_columns
from catalog.connectors.lake.layout import partition_summary

MAX_VARIANTS = 16  # distinct schemas remembered per dataset; more are folded into the last
MAX_EXAMPLES = 3

# One data file from the listing: (key, size, etag, last_modified, compression, partitions).
KEY, SIZE, ETAG, MODIFIED, COMPRESSION, PARTITIONS = range(6)


def unnamed_warning(keys: list[str], location: str) -> str:
    shown = ", ".join(relative(k, location) for k in keys[:MAX_EXAMPLES])
    return f"{len(keys)} file(s) or folder(s) left out: the name is not UTF-8, rename to read (e.g. {shown})"


def outside_links_warning(keys: list[str], location: str) -> str:
    # Names the links only: where they lead, and what is there, stays unsaid.
    shown = ", ".join(relative(k, location) for k in keys[:MAX_EXAMPLES])
    return f"{len(keys)} symbolic link(s) left out, not read: each leads outside the source's folder (e.g. {shown})"


def relative(key: str, location: str) -> str:
    return key[len(location):] if location and key.startswith(location) else key


def add_to_variants(variants: list[dict], columns: list[list], fid: int, key: str) -> None:
    for variant in variants:
        if variant["c"] == columns:
            break
    else:
        if len(variants) >= MAX_VARIANTS:
            variant = variants[-1]
            variant["c"], _ = merge_columns([variant["c"], columns])
        else:
            variant = {"c": columns, "f": set(), "e": []}
            variants.append(variant)
    variant["f"].add(fid)
    if key not in variant["e"] and len(variant["e"]) < MAX_EXAMPLES:
        variant["e"].append(key)


def variant_warnings(variants: list[dict], merged: list[list], location: str) -> list[str]:
    """When files disagree: for each group of files, what it lacks or types differently."""
    if len(variants) < 2:
        return []
    merged_types = {c[0]: c[1] for c in merged}
    warnings = []
    for variant in variants:
        own = {c[0]: c[1] for c in variant["c"]}
        missing = [name for name in merged_types if name not in own]
        retyped = [f"{name} as {own[name]}" for name in own if own[name] != merged_types[name]]
        differences = []
        if missing:
            differences.append("lack " + ", ".join(missing))
        if retyped:
            differences.append("have " + ", ".join(retyped))
        if not differences:
            continue
        count = len(variant["f"])
        shown = ", ".join(relative(k, location) for k in variant["e"])
        warnings.append(f"schemas differ, columns merged: {count} file(s) {' and '.join(differences)}"
                        + (f" (e.g. {shown})" if shown else ""))
    return warnings


def partitions_of(files: list[tuple], location: str) -> tuple[list[ColumnMeta], list[dict], str]:
    """Partition columns, their facts, and a warning when files sit under different partition keys."""
    layouts: dict[tuple[str, ...], list[str]] = {}
    values: dict[str, set[str]] = {}
    for partitions in {f[PARTITIONS] for f in files}:
        for key, value in partitions:
            values.setdefault(key, set()).add(value)
    if not values:
        return [], [], ""
    for f in files:
        shape = tuple(k for k, _ in f[PARTITIONS])
        examples = layouts.setdefault(shape, [])
        if len(examples) < 1:
            examples.append(f[KEY])
    order: list[str] = []
    for shape in sorted(layouts, key=len, reverse=True):
        for key in shape:
            if key not in order:
                order.append(key)
    facts = [partition_summary(key, values[key]) for key in order]
    columns = [ColumnMeta(name=fact["key"], data_type=fact["type"], position=0, nullable=True,
                          comment="partition folder (key=value)", type_family=_PARTITION_FAMILIES.get(fact["type"], "text"))
               for fact in facts]
    warning = ""
    if len(layouts) > 1:
        shapes = "; ".join(f"{'/'.join(shape) or 'no partition folders'} (e.g. {relative(examples[0], location)})"
                           for shape, examples in sorted(layouts.items()))
        warning = f"files sit under different partition folders: {shapes}"
    return columns, facts, warning


_PARTITION_FAMILIES = {"int64": "integer", "double": "float", "date32[day]": "date", "timestamp[us]": "timestamp", "bool": "boolean",
                       "string": "text"}
