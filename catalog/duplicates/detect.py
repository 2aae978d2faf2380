"""Which datasets hold the same data, and which views compute the same thing. Django-free.

Every dataset is reduced to a Signature: its columns as normalised tokens (``customerId``,
``CustomerID`` and ``customer_id`` are one name; the type is its family, coarsened so that a
PostgreSQL ``numeric`` and a Parquet ``double`` agree), its row count and size where known, a
checksum of its files' content (equal checksums are certain copies), the fingerprint of its SQL
(a view or a dbt model) and the one dataset it reads when it reads only one (lineage).

Candidates are never all pairs. Datasets with exactly the same column set are clustered by a
hash of the set; one representative of each distinct set goes into a MinHash index whose bands
(LSH) bucket sets with high Jaccard similarity together; equal checksums, equal SQL fingerprints
and "reads only X" add candidates directly. Only candidates are scored; the accepted pairs are
joined into groups (union-find), each with one original and its copies, capped in size with a
warning, so thousands of identical partitions a connector did not fold make one capped group.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

import numpy as np

from catalog.core.names import split_words

# ---------------------------------------------------------------- settings of the method

MIN_COLUMNS = 3  # fewer columns say too little: a table of (id) is like every other one
MIN_SCORE = 75  # a pair scoring below this is not reported
MAX_GROUP = 50  # a group shows its original and at most this many members in all
BANDS, ROWS = 12, 4  # 48 MinHash values in 12 bands of 4: sets 75% alike meet in a band 99% of the time
BUCKET_CAP = 200  # a band bucket holding more distinct column sets than this is too common to tell anything

# Type families coarsened so that engines that spell one kind of value differently still agree.
_FAMILY_GROUP = {
    "integer": "number", "decimal": "number", "float": "number",
    "date": "time", "timestamp": "time", "time": "time",
    # JSON is text in most files (Parquet and CSV have no JSON type): a jsonb column exported is a string column.
    "json": "text", "struct": "nested", "map": "nested", "array": "nested",
    "uuid": "text", "text": "text",
}
# Names people give copies: orders_backup, orders_copy, orders_2024, orders_20240131, orders_old, orders_v2 ...
_COPY_MARKERS = {"backup", "bak", "copy", "old", "snapshot", "snap", "tmp", "temp", "archive", "archived", "dup", "clone",
                 "bkp", "orig", "save", "saved", "export", "exported", "extract", "dump", "mirror", "replica"}
# Names so common that sharing them says little: two tables of (id, name, created_at, updated_at, status) are not copies.
GENERIC = frozenset({
    "id", "uuid", "key", "value", "name", "title", "type", "kind", "status", "state", "description", "comment", "notes",
    "created", "created_at", "created_on", "created_by", "updated", "updated_at", "updated_on", "updated_by", "modified_at",
    "deleted", "deleted_at", "is_deleted", "active", "is_active", "version", "date", "timestamp", "ts", "time", "tenant_id",
    "_loaded_at", "loaded_at", "inserted_at", "etl_loaded_at", "row_id", "source", "code", "label", "position", "sort_order",
})
GENERIC_WEIGHT = 0.25
MIN_EVIDENCE = 2.0  # shared columns, generic ones counting GENERIC_WEIGHT each, a pair needs to be scored at all
_DATE_LIKE = re.compile(r"^(19|20)\d{2}(\d{2}){0,2}$|^\d{8}$|^v\d+$")


@lru_cache(maxsize=200_000)
def column_token(name: str, family: str) -> str:
    """A column as detection compares it: words of its name joined by '_', and the coarse type family."""
    words = split_words(name) or [name.strip().lower()]
    return f"{'_'.join(words)}:{_FAMILY_GROUP.get(family or 'other', family or 'other')}"


def name_words_of(token: str) -> str:
    return token.rsplit(":", 1)[0]


def base_name(name: str) -> tuple[str, bool]:
    """A dataset's name without the words that mark a copy, and whether it had any: orders_backup_2024 -> (orders, True)."""
    words = [w for w in re.split(r"[^0-9a-z]+", (name or "").lower()) if w]
    kept = [w for w in words if w not in _COPY_MARKERS and not _DATE_LIKE.match(w)]
    return "_".join(kept or words), len(kept) != len(words)


@dataclass(frozen=True, slots=True)
class Signature:
    dataset_id: int
    name: str  # the dataset's own name (no schema): copies are often named after the original
    columns: frozenset[str]  # column_token() of each column
    rows: int | None = None
    size: int | None = None
    checksum: str = ""  # of the files' content (ETags, checksums); equal means the same bytes
    sql: str = ""  # fingerprint of a view's or model's SQL (metrics' equivalence), "" when it has none
    upstream: int | None = None  # the one dataset it reads, when it reads exactly one
    seen: float = 0.0  # first seen, as a timestamp: the older of two is the likelier original
    label: str = ""  # how people know it ("shop: analytics.orders"), for evidence in words


@dataclass(frozen=True, slots=True)
class Match:
    """Two datasets found alike, with why. Symmetric: which one is the copy is decided when groups are made."""

    a: int
    b: int
    score: int
    kind: str  # "dataset" (the same data) or "pipeline" (the same SQL)
    certain: bool
    shared: int
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    retyped: tuple[str, ...]  # names in both with different type families
    facts: tuple[str, ...]  # evidence beyond the columns


@dataclass
class Member:
    dataset_id: int
    score: int  # 100 for the original
    certain: bool = False
    evidence: list[str] = field(default_factory=list)
    summary: str = ""  # "92%: same 14 columns, 1 extra"
    like: int | None = None  # the member it was matched with (the original, or a copy of it)


@dataclass
class Group:
    original: int
    kind: str
    members: list[Member]  # the original first, then copies, best evidence first
    score: int
    certain: bool
    size: int  # every dataset the group really holds, shown or not
    warning: str = ""

    @property
    def copies(self) -> list[Member]:
        return self.members[1:]


@dataclass
class Detection:
    groups: list[Group]
    warnings: list[str]
    pairs_scored: int = 0


# ---------------------------------------------------------------- MinHash bands

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_rng = np.random.default_rng(20261207)  # fixed: band keys are stored, so they must be the same in every process
_SALTS = _rng.integers(1, 2**63, size=BANDS * ROWS, dtype=np.uint64)
_MULTS = _rng.integers(1, 2**63, size=BANDS * ROWS, dtype=np.uint64) | np.uint64(1)
_BAND_MULTS = _rng.integers(1, 2**63, size=ROWS, dtype=np.uint64) | np.uint64(1)
_BAND_SALTS = _rng.integers(1, 2**63, size=BANDS, dtype=np.uint64)
_token_hashes: dict[str, int] = {}


def token_hash(token: str) -> int:
    """A stable 64-bit hash of a token (Python's hash() differs between processes). Cached: names repeat a lot."""
    value = _token_hashes.get(token)
    if value is None:
        value = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
        if len(_token_hashes) < 2_000_000:
            _token_hashes[token] = value
    return value


def set_key(columns: Iterable[str]) -> int:
    """The same for the same set of column tokens, in any order (a signed 64-bit integer, as the database keeps it)."""
    total = 0
    for token in columns:
        total = (total + token_hash(token) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    return total - (1 << 64) if total >= 1 << 63 else total


def band_keys(column_sets: list[frozenset[str]], chunk: int = 2_000) -> np.ndarray:
    """One row per set, BANDS signed 64-bit keys: two sets share a key where their MinHash values agree on a whole band.
    Vectorised over all sets at once (in chunks), so 100,000 sets of 20 columns take about a second."""
    out = np.empty((len(column_sets), BANDS), dtype=np.int64)
    with np.errstate(over="ignore"):
        for start in range(0, len(column_sets), chunk):
            sets = column_sets[start:start + chunk]
            lengths = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
            hashes = np.fromiter((token_hash(t) for s in sets for t in s), dtype=np.uint64, count=int(lengths.sum()))
            mixed = np.bitwise_xor(hashes[:, None], _SALTS[None, :])
            np.multiply(mixed, _MULTS[None, :], out=mixed)
            np.right_shift(mixed, np.uint64(16), out=mixed)
            offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            minima = np.minimum.reduceat(mixed, offsets, axis=0).reshape(len(sets), BANDS, ROWS)
            keys = (minima * _BAND_MULTS[None, None, :]).sum(axis=2, dtype=np.uint64) ^ _BAND_SALTS[None, :]
            out[start:start + len(sets)] = keys.view(np.int64)
    return out


# ---------------------------------------------------------------- scoring


def _ratio(x: int | None, y: int | None) -> float | None:
    if x is None or y is None or x < 0 or y < 0:
        return None
    if x == y:
        return 1.0
    return min(x, y) / max(x, y)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def informative(columns: frozenset[str]) -> frozenset[str]:
    """The columns whose names say something about the data: all but the GENERIC ones."""
    return frozenset(t for t in columns if not _generic(t))


_generic_tokens: dict[str, bool] = {}


def _generic(token: str) -> bool:
    found = _generic_tokens.get(token)
    if found is None:
        found = name_words_of(token) in GENERIC
        if len(_generic_tokens) < 2_000_000:
            _generic_tokens[token] = found
    return found


def _weight(tokens) -> float:
    return sum(GENERIC_WEIGHT if _generic(t) else 1.0 for t in tokens)


def score_pair(x: Signature, y: Signature) -> Match | None:
    """How alike two datasets are, 0-100 with the evidence; None when they are not alike enough to say."""
    a, b = (x, y) if x.dataset_id < y.dataset_id else (y, x)
    facts: list[str] = []
    if a.checksum and a.checksum == b.checksum:
        return Match(a.dataset_id, b.dataset_id, 100, "dataset", True, len(a.columns & b.columns),
                     tuple(sorted(a.columns - b.columns)), tuple(sorted(b.columns - a.columns)), (),
                     ("identical file checksums: the same bytes",))
    shared_tokens = a.columns & b.columns
    only_a, only_b = a.columns - b.columns, b.columns - a.columns
    names_a = {name_words_of(t): t for t in only_a}
    names_b = {name_words_of(t): t for t in only_b}
    retyped = sorted(set(names_a) & set(names_b))
    if a.sql and a.sql == b.sql:
        return Match(a.dataset_id, b.dataset_id, 98, "pipeline", False, len(shared_tokens), tuple(sorted(only_a)),
                     tuple(sorted(only_b)), tuple(retyped), ("the same SQL, up to formatting, case, comments, alias names "
                                                              "and the order of conditions",))
    shared_weight = _weight(shared_tokens)
    if len(shared_tokens) < MIN_COLUMNS or shared_weight < MIN_EVIDENCE:
        return None
    # A retyped column counts once, as a difference. Generic names (id, created_at) weigh less, alike or not.
    union_weight = shared_weight + _weight(only_a) + _weight(only_b) - _weight(names_b[n] for n in retyped)
    score = 100.0 * shared_weight / union_weight
    union = len(a.columns | b.columns) - len(retyped)
    if union < 6:  # few columns: alike by chance more often
        score -= (6 - union) * 4
    rows = _ratio(a.rows, b.rows)
    if rows is not None and max(a.rows or 0, b.rows or 0) > 0:
        if rows >= 0.95:
            facts.append("the same row count" if rows == 1.0 else f"row counts within {max(1, round(100 * (1 - rows)))}%")
        elif rows < 0.5:
            score -= 25
            facts.append(f"row counts differ ({a.rows:,} and {b.rows:,})")
        else:
            score -= 8
    size = _ratio(a.size, b.size)
    if size is not None and max(a.size or 0, b.size or 0) > 0 and size >= 0.9:
        facts.append("sizes within 10%")
    derived = (a.upstream == b.dataset_id) or (b.upstream == a.dataset_id)
    if derived:
        score += 10
        facts.append("one reads only the other")
    base_a, marked_a = base_name(a.name)
    base_b, marked_b = base_name(b.name)
    if base_a and base_a == base_b and (marked_a or marked_b or a.name.lower() == b.name.lower()):
        score += 5
        facts.append("named after the same table" if not (marked_a or marked_b) else "named like a copy")
    score = int(round(min(score, 99.0)))  # only the same bytes are certain
    if score < MIN_SCORE:
        return None
    return Match(a.dataset_id, b.dataset_id, score, "dataset", False, len(shared_tokens), tuple(sorted(only_a)),
                 tuple(sorted(only_b)), tuple(retyped), tuple(facts))


def describe(match: Match, copy: int) -> tuple[list[str], str]:
    """The evidence of a match, seen from the copy: its extra and missing columns against the other one."""
    extra = match.only_b if copy == match.b else match.only_a
    missing = match.only_a if copy == match.b else match.only_b
    retyped = set(match.retyped)
    extra = [name_words_of(t) for t in extra if name_words_of(t) not in retyped]
    missing = [name_words_of(t) for t in missing if name_words_of(t) not in retyped]
    evidence = [f"same {_count(match.shared, 'column')}"] if match.shared else []
    if extra:
        evidence.append(f"{len(extra)} extra: {', '.join(extra[:5])}{' …' if len(extra) > 5 else ''}")
    if missing:
        evidence.append(f"{len(missing)} missing: {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}")
    if retyped:
        evidence.append(f"{_count(len(retyped), 'type')} {'differs' if len(retyped) == 1 else 'differ'}: "
                        f"{', '.join(sorted(retyped)[:5])}")
    evidence.extend(match.facts)
    short = [f"same {_count(match.shared, 'column')}"] if match.shared else []
    if extra:
        short.append(f"{len(extra)} extra")
    if missing:
        short.append(f"{len(missing)} missing")
    if match.certain:
        short = ["identical files"]
    elif match.kind == "pipeline":
        short = ["the same SQL"]
    return evidence, f"{match.score}%: {', '.join(short)}"


# ---------------------------------------------------------------- candidates and groups


def _pair(x: int, y: int) -> tuple[int, int]:
    return (x, y) if x < y else (y, x)


def candidate_pairs(signatures: dict[int, Signature], warnings: list[str],
                    bands: dict[int, list[int]] | None = None) -> set[tuple[int, int]]:
    """Pairs worth scoring: never all pairs. Identical column sets pair with one representative each; distinct sets meet
    in LSH buckets; equal checksums and equal SQL pair directly, and so does a dataset with the one it reads."""
    pairs: set[tuple[int, int]] = set()
    by_set: dict[frozenset, list[int]] = defaultdict(list)
    for s in signatures.values():
        if len(s.columns) >= MIN_COLUMNS:
            by_set[s.columns].append(s.dataset_id)
    representatives = []
    for members in by_set.values():
        members.sort()
        representatives.append(members[0])
        pairs.update((members[0], other) for other in members[1:])
    # Generic names (id, created_at) are left out of the bands: they would bucket unrelated tables together.
    representatives = [r for r in representatives if len(informative(signatures[r].columns)) >= 2]
    if representatives:
        if bands is not None and all(r in bands for r in representatives):  # made already (Index)
            rows = [bands[r] for r in representatives]
        else:
            rows = band_keys([informative(signatures[r].columns) for r in representatives]).tolist()
        buckets: dict[int, list[int]] = defaultdict(list)
        for representative, row in zip(representatives, rows):
            for key in row:
                buckets[key].append(representative)
        crowded = 0
        for members in buckets.values():
            if len(members) < 2:
                continue
            if len(members) > BUCKET_CAP:
                crowded += 1
                continue
            for i, x in enumerate(members):
                for y in members[i + 1:]:
                    pairs.add(_pair(x, y))
        if crowded:
            warnings.append(f"{crowded} groups of more than {BUCKET_CAP} column sets alike were too common to compare")
    for attribute in ("checksum", "sql"):
        same: dict[str, list[int]] = defaultdict(list)
        for s in signatures.values():
            value = getattr(s, attribute)
            if value:
                same[value].append(s.dataset_id)
        for members in same.values():
            members.sort()
            pairs.update((members[0], other) for other in members[1:])
    for s in signatures.values():
        if s.upstream is not None and s.upstream in signatures and s.upstream != s.dataset_id:
            pairs.add(_pair(s.dataset_id, s.upstream))
    return pairs


def _original_key(s: Signature, derived: set[int]):
    """The likeliest original sorts first: not named like a copy, not derived from another member, seen first."""
    return (base_name(s.name)[1], s.dataset_id in derived, s.seen, s.dataset_id)


def detect(signatures: Iterable[Signature], *, decisions: dict[tuple[int, int], tuple[str, int | None]] | None = None,
           max_group: int = MAX_GROUP, bands: dict[int, list[int]] | None = None) -> Detection:
    """Groups of datasets holding the same data (or computing it), best evidence first.

    decisions: {(smaller id, larger id): (verdict, original id)} people made. "not" removes the pair for good; "copy"
    makes the pair certain with the original they named (it wins the choice of original); "keep" leaves the pair in.
    """
    signatures = {s.dataset_id: s for s in signatures}
    decisions = decisions or {}
    warnings: list[str] = []
    pairs = candidate_pairs(signatures, warnings, bands)
    for (x, y), (verdict, _) in decisions.items():
        if verdict in ("copy", "keep") and x in signatures and y in signatures:
            pairs.add((x, y))
    matches: dict[tuple[int, int], Match] = {}
    for x, y in pairs:
        verdict = decisions.get((x, y), ("", None))[0]
        if verdict == "not":
            continue
        match = score_pair(signatures[x], signatures[y])
        if match is None and verdict in ("copy", "keep"):
            match = Match(x, y, MIN_SCORE, "dataset", False, len(signatures[x].columns & signatures[y].columns), (), (), (),
                          ("a person said so",))
        if match is not None and verdict == "copy":
            match = Match(match.a, match.b, 100, match.kind, True, match.shared, match.only_a, match.only_b, match.retyped,
                          (*match.facts, "a person confirmed it is a copy"))
        if match is not None:
            matches[(x, y)] = match

    parent: dict[int, int] = {}

    def find(i: int) -> int:
        parent.setdefault(i, i)
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for x, y in matches:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    components: dict[int, list[int]] = defaultdict(list)
    for i in parent:
        components[find(i)].append(i)
    neighbours: dict[int, list[Match]] = defaultdict(list)
    for match in matches.values():
        neighbours[match.a].append(match)
        neighbours[match.b].append(match)
    named_originals = {original for (verdict, original) in decisions.values() if verdict == "copy" and original}
    derived = {s.dataset_id for s in signatures.values() if s.upstream is not None}

    groups = []
    for ids in components.values():
        named = [i for i in ids if i in named_originals]
        original = min(named or ids, key=lambda i: _original_key(signatures[i], derived))
        members = []
        for i in ids:
            if i == original:
                continue
            direct = matches.get(_pair(i, original))
            best = direct or max(neighbours[i], key=lambda m: (m.score, -min(m.a, m.b)))
            evidence, summary = describe(best, i)
            like = original if direct else (best.a if best.b == i else best.b)
            if not direct:
                evidence.append(f"like {signatures[like].label or like}, itself like the original")
            members.append(Member(i, best.score, best.certain, evidence, summary, like))
        members.sort(key=lambda m: (-m.certain, -m.score, m.dataset_id))
        kind = "pipeline" if all(
            (matches.get(_pair(m.dataset_id, m.like)) or Match(0, 0, 0, "dataset", False, 0, (), (), (), ())).kind == "pipeline"
            for m in members) else "dataset"
        size = len(ids)
        warning = ""
        if size > max_group:
            warning = (f"{size:,} datasets look alike; the group shows the best {max_group}. So many usually means partitions "
                       "a connector did not fold, or generated tables: look at the source's layout")
            members = members[:max_group - 1]
            warnings.append(f"a group of {size:,} datasets like {signatures[original].label or original} was capped at {max_group}")
        groups.append(Group(original, kind, [Member(original, 100), *members], max(m.score for m in members),
                            any(m.certain for m in members), size, warning))
    groups.sort(key=lambda g: (-g.certain, -g.score, -g.size, g.original))
    return Detection(groups, warnings, len(pairs))


# ---------------------------------------------------------------- an index kept between passes


class Index:
    """Signatures and their buckets kept in memory, so that a pass after a crawl compares only what changed with
    its candidates (the crawl step keeps the same buckets in the database: models.SignatureBand)."""

    def __init__(self):
        self.signatures: dict[int, Signature] = {}
        self.bands: dict[int, list[int]] = {}
        self.buckets: dict[int, set[int]] = defaultdict(set)
        self.by_value: dict[tuple[str, object], set[int]] = defaultdict(set)  # ("set", key), ("checksum", ..), ("sql", ..)
        self.readers: dict[int, set[int]] = defaultdict(set)  # dataset -> datasets that read only it
        self.group_of: dict[int, int] = {}
        self.groups: dict[int, Group] = {}

    def _values(self, s: Signature):
        if len(s.columns) >= MIN_COLUMNS:
            yield ("set", set_key(s.columns))
        if s.checksum:
            yield ("checksum", s.checksum)
        if s.sql:
            yield ("sql", s.sql)

    def _remove(self, dataset_id: int) -> None:
        old = self.signatures.pop(dataset_id, None)
        if old is None:
            return
        for key in self.bands.pop(dataset_id, []):
            self.buckets[key].discard(dataset_id)
        for value in self._values(old):
            self.by_value[value].discard(dataset_id)
        if old.upstream is not None:
            self.readers[old.upstream].discard(dataset_id)

    def _add(self, signatures: list[Signature]) -> None:
        banded, sets = [], []
        for s in signatures:
            if len(s.columns) >= MIN_COLUMNS:
                kept = informative(s.columns)
                if len(kept) >= 2:
                    banded.append(s)
                    sets.append(kept)
        keys = band_keys(sets).tolist() if banded else []
        for s, row in zip(banded, keys):
            self.bands[s.dataset_id] = row
            for key in row:
                self.buckets[key].add(s.dataset_id)
        for s in signatures:
            self.signatures[s.dataset_id] = s
            for value in self._values(s):
                self.by_value[value].add(s.dataset_id)
            if s.upstream is not None:
                self.readers[s.upstream].add(s.dataset_id)

    def _store(self, detection: Detection) -> None:
        for group in detection.groups:
            self.groups[group.original] = group
            for member in group.members:
                self.group_of[member.dataset_id] = group.original

    def build(self, signatures: Iterable[Signature], **options) -> Detection:
        """A full pass: every signature, every group."""
        signatures = list(signatures)
        self.__init__()
        self._add(signatures)
        detection = detect(signatures, bands=self.bands, **options)
        self._store(detection)
        return detection

    def candidates(self, dataset_id: int) -> set[int]:
        s = self.signatures[dataset_id]
        found: set[int] = set()
        for key in self.bands.get(dataset_id, []):
            bucket = self.buckets[key]
            if len(bucket) <= BUCKET_CAP:
                found |= bucket
        for value in self._values(s):
            same = self.by_value[value]
            found |= same if len(same) <= BUCKET_CAP else set(sorted(same)[:BUCKET_CAP])
        if s.upstream is not None and s.upstream in self.signatures:
            found.add(s.upstream)
        found |= self.readers.get(dataset_id, set())
        found.discard(dataset_id)
        return found

    def update(self, changed: Iterable[Signature], removed: Iterable[int] = (), **options) -> Detection:
        """An incremental pass: the changed datasets, their candidates and the groups any of them is in are detected
        again; every other group stays as it was. Returns the groups made again."""
        changed = list(changed)
        removed = set(removed)
        touched = {s.dataset_id for s in changed} | removed
        for dataset_id in touched:
            self._remove(dataset_id)
        self._add(changed)
        context: set[int] = set()
        for s in changed:
            context.add(s.dataset_id)
            context |= self.candidates(s.dataset_id)
        for dataset_id in list(context | touched):
            original = self.group_of.get(dataset_id)
            if original is not None and original in self.groups:
                group = self.groups.pop(original)
                for member in group.members:
                    self.group_of.pop(member.dataset_id, None)
                    context.add(member.dataset_id)
        context -= removed
        detection = detect([self.signatures[i] for i in context if i in self.signatures], bands=self.bands, **options)
        self._store(detection)
        return detection
