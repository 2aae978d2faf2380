"""A lake source's settings (Source.options): what each option means, its bounds, and how CSV files are split.

Checked when a source is saved (LakeConnector.check_options) and read again by every crawl.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from catalog.connectors.base import ConnectorError
from catalog.connectors.lake.formats import CSV_DELIMITERS, CSV_DETECTION, CSV_QUOTES, CsvDialect


@dataclass
class LakeOptions:
    """Per-source settings (Source.options), validated."""

    path_templates: list[str] = field(default_factory=list)
    sample_files: int = 5  # files whose schema a dataset's first crawl reads, newest first
    sample_bytes: int = 1 << 20  # bytes of a CSV / JSON Lines file read to infer its header and types
    owner_tag: str = "owner"  # bucket or object tag naming the owner; "" turns tag lookups off
    object_tags: bool = True  # also read the owner tag of the newest new file of each dataset
    read_concurrency: int = 8  # schema reads in flight at once
    # How CSV files are split: (pattern on the key below the source's prefix, delimiter), first match
    # wins; a file no pattern matches has its delimiter detected from its sample.
    csv_delimiter: list[tuple[str, str]] = field(default_factory=list)
    csv_quote: str = ""  # "" detects the quote character with the delimiter
    prefix: str = ""  # the source's prefix, which csv_delimiter patterns are relative to (set by the connector)
    csv_reread: bool = False  # CSV schemas remembered were read another way: read them again (set by the connector)

    KEYS = ("path_templates", "path_template", "sample_files", "sample_bytes", "owner_tag", "object_tags", "read_concurrency",
            "csv_delimiter", "csv_quote")

    @classmethod
    def parse(cls, options: dict) -> "LakeOptions":
        parsed = cls()
        templates = options.get("path_templates", options.get("path_template")) or []
        if isinstance(templates, str):
            templates = [templates]
        if not isinstance(templates, list) or not all(isinstance(t, str) and t.strip() for t in templates):
            raise ConnectorError("option path_templates must be a list of path templates, e.g. [\"{dataset}/dt={dt}/*.parquet\"]")
        parsed.path_templates = [t.strip() for t in templates]
        for name, low, high in (("sample_files", 1, 10_000), ("sample_bytes", 1024, 256 << 20), ("read_concurrency", 1, 64)):
            if name in options:
                value = options[name]
                if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                    raise ConnectorError(f"option {name} must be a whole number from {low} to {high}, not {value!r}")
                setattr(parsed, name, value)
        if "owner_tag" in options:
            if not isinstance(options["owner_tag"], str):
                raise ConnectorError("option owner_tag must be a tag name such as \"owner\", or \"\" for none")
            parsed.owner_tag = options["owner_tag"].strip()
        if "object_tags" in options:
            parsed.object_tags = bool(options["object_tags"])
        if "csv_delimiter" in options:
            parsed.csv_delimiter = _csv_delimiters(options["csv_delimiter"])
        if "csv_quote" in options:
            quote = options["csv_quote"]
            if quote not in ("", *CSV_QUOTES):
                raise ConnectorError(f"option csv_quote must be '\"' or \"'\" (or \"\" to detect it), not {quote!r}")
            parsed.csv_quote = quote
        return parsed

    def csv_reading(self) -> str:
        """How CSV files are split, as kept in the state: when it changes, their schemas are read again."""
        return f"{CSV_DETECTION}|{self.csv_delimiter!r}|{self.csv_quote}"

    def csv_dialect(self, key: str) -> CsvDialect:
        """How to split the CSV file at `key`: as an option says, else detected (CsvDialect.how)."""
        relative = key[len(self.prefix):] if self.prefix and key.startswith(self.prefix) else key
        for pattern, delimiter in self.csv_delimiter:
            if fnmatchcase(relative, pattern):
                if delimiter:
                    return CsvDialect(delimiter=delimiter, quote=self.csv_quote or '"', how="option")
                break  # "auto" for these keys
        return CsvDialect(delimiter=",", quote=self.csv_quote, how="detected")


_DELIMITER_SPELLINGS = {",": ",", ";": ";", "\t": "\t", "tab": "\t", "\\t": "\t", "|": "|", "comma": ",", "semicolon": ";", "pipe": "|"}


def _csv_delimiters(value) -> list[tuple[str, str]]:
    """The csv_delimiter option: one delimiter for every CSV file ("auto" detects), or an object of
    {key pattern: delimiter} (fnmatch, * crosses folders) for some folders or files."""
    rules = [("*", value)] if isinstance(value, str) else list(value.items()) if isinstance(value, dict) else None
    if rules is None or not all(isinstance(p, str) and p.strip() and isinstance(d, str) for p, d in rules):
        raise ConnectorError("option csv_delimiter must be a delimiter such as \";\", or an object of key patterns and "
                             "delimiters such as {\"exports/eu/*\": \";\"}")
    parsed = []
    for pattern, delimiter in rules:
        if delimiter.strip().lower() == "auto":
            parsed.append((pattern.strip(), ""))
            continue
        spelled = _DELIMITER_SPELLINGS.get(delimiter if delimiter in _DELIMITER_SPELLINGS else delimiter.strip().lower())
        if spelled not in CSV_DELIMITERS:
            raise ConnectorError(f"option csv_delimiter: {delimiter!r} is not a delimiter Canon reads; use one of "
                                 "\",\", \";\", \"\\t\" (tab), \"|\" or \"auto\"")
        parsed.append((pattern.strip(), spelled))
    return parsed
