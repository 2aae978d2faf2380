"""The data-lake connector: S3 buckets and local folders as datasets with inferred schemas.

One crawl:

1. Lists every object under the source's prefix (or under each path template's literal
   prefix). Listing is the floor of the cost, and an unchanged recrawl costs only that.
2. Places each data file in a dataset (``layout``): one dataset per folder of one format, Hive
   partition folders folded in as partition columns.
3. Reads the schema of the files not seen before (by key and ETag, against the previous
   crawl's state): on a dataset's first crawl the newest ``sample_files`` files, afterwards every
   new or changed file, so a new column in new files is caught. Reads run in parallel and fetch
   only a Parquet footer or a bounded text sample (``formats``); in the default layout they start
   while the listing goes on, as soon as the listing has moved past a dataset's folder.
4. Merges the schemas of a dataset's files (``merge``), and says on the dataset which files differ and
   which could not be read. Facts (format, objects, bytes, first and last modified, partition
   keys with their count and range, owner) come from the listing.

A listing that fails (missing bucket, access denied, endpoint down) fails the crawl, so the
catalog keeps what it had: a partial listing cannot tell a removed dataset from a hidden one.
A file that cannot be read is a warning on its dataset; the crawl goes on.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from catalog.connectors.base import FILE_SET, ColumnMeta, Connector, ConnectorError, DatasetMeta, ExtractRequest, Extraction, schema_in_scope
from catalog.connectors.lake import state as lake_state
from catalog.connectors.lake.formats import FileSchema, merge_columns, merge_footer_stats, read_schema
from catalog.connectors.lake.layout import (
    CSV,
    FORMAT_LABELS,
    FORMATS,
    PARQUET,
    DefaultLayout,
    PathTemplate,
    TemplateError,
    TemplateLayout,
    file_format,
    is_data_key,
    list_prefixes,
)
from catalog.connectors.lake.merge import (
    COMPRESSION,
    ETAG,
    KEY,
    MODIFIED,
    PARTITIONS,
    SIZE,
    add_to_variants,
    outside_links_warning,
    partitions_of,
    relative,
    unnamed_warning,
    variant_warnings,
)
from catalog.connectors.lake.options import LakeOptions
from catalog.connectors.lake.stores import LocalStore, ObjectStore, S3Store, StoreError

MAX_PROBLEM_WARNINGS = 10




class _Group:
    """One dataset's files as the listing finds them, by format."""

    __slots__ = ("schema", "name", "location", "by_format", "unnamed", "outside_links")

    def __init__(self, schema: str, name: str, location: str):
        self.schema, self.name, self.location = schema, name, location
        self.by_format: dict[str, list[tuple]] = {}
        self.unnamed: list[str] = []  # keys in its folder the store could not name (ObjectStore.unnamed_keys)
        self.outside_links: list[str] = []  # links in its folder leading outside the store's (ObjectStore.outside_links)


@dataclass
class _Plan:
    group: _Group
    fmt: str
    files: list[tuple]
    ids: list[int]
    previous: dict | None
    to_read: list[tuple]
    results: dict[str, FileSchema] = field(default_factory=dict)
    owner_tag: str | None = None


class LakeConnector(Connector):
    engine_label = "Data lake (S3 / folder)"

    def __init__(self, url, **kwargs):
        super().__init__(url, **kwargs)
        self.store: ObjectStore | None = None

    @classmethod
    def check_options(cls, options: dict) -> None:
        unknown = sorted(str(k) for k in options if k not in LakeOptions.KEYS)
        if unknown:
            raise ConnectorError(f"unknown option {', '.join(unknown)}; a lake source reads {', '.join(LakeOptions.KEYS)}")
        LakeOptions.parse(options)

    # The store is made on demand: constructing a connector (URL validation) must not touch the network.
    def open_store(self, pool_size: int = 10) -> ObjectStore:
        try:
            if self.url.scheme == "s3":
                return S3Store(self.url, connect_timeout=self.connect_timeout, read_timeout=max(self.statement_timeout, 5),
                               pool_size=pool_size)
            return LocalStore(self.url)
        except StoreError as exc:
            raise ConnectorError(self.clean_message(str(exc))) from None

    def local_paths(self) -> list[str]:
        return [str(self.open_store().root)] if self.url.scheme == "file" else []

    @property
    def stats(self) -> dict:
        """Requests and bytes of the last extract(): listing, content reads, files read."""
        return self.store.stats.as_dict() if self.store else {}

    def _prefix(self) -> str:
        path = self.url.path if self.url.scheme == "s3" else ""
        path = path.strip("/")
        return path + "/" if path else ""

    def test(self) -> str:
        store = self.open_store()
        try:
            first = next(iter(store.list(self._prefix())), [])
        except StoreError as exc:
            raise ConnectorError(self.clean_message(str(exc))) from None
        where = store.location(self._prefix())
        return f"{store.describe()}: {where} is readable" + ("" if first else " (and holds no objects yet)")

    # Layout ----------------------------------------------------------------------------------

    def _layout(self, options: LakeOptions, store: ObjectStore):
        prefix = self._prefix()
        if not options.path_templates:
            return DefaultLayout(store.root_name), [prefix]
        templates = []
        for text in options.path_templates:
            try:
                templates.append(PathTemplate(self._template_path(text, store), "" if "://" in text else prefix, store.root_name))
            except TemplateError as exc:
                raise ConnectorError(str(exc)) from None
        return TemplateLayout(templates), list_prefixes([t.list_prefix for t in templates])

    def _template_path(self, text: str, store: ObjectStore) -> str:
        """A template as a key pattern: full URLs must point into this source's bucket or folder."""
        if "://" not in text:
            return text
        scheme, rest = text.split("://", 1)
        if scheme.lower() != self.url.scheme:
            raise ConnectorError(f"path template '{text}' is not a {self.url.scheme}:// path")
        if isinstance(store, S3Store):
            bucket, _, path = rest.partition("/")
            if bucket != store.bucket:
                raise ConnectorError(f"path template '{text}' names bucket '{bucket}', but this source reads bucket '{store.bucket}'")
            return path
        root = str(store.root).rstrip("/") + "/"
        if not rest.startswith(root):
            raise ConnectorError(f"path template '{text}' is not inside the folder {store.root}")
        return rest[len(root):]

    # Extraction ------------------------------------------------------------------------------

    def extract(self, request: ExtractRequest = ExtractRequest()) -> Extraction:
        include, exclude = list(request.include or ()), list(request.exclude or ())
        options = LakeOptions.parse(self.options)
        options.prefix = self._prefix()
        # A changed csv_delimiter (or detection) must not leave CSV files read the old way as "seen".
        options.csv_reread = (request.previous_state or {}).get("csv") != options.csv_reading()
        store = self.store = self.open_store(pool_size=options.read_concurrency + 2)
        layout, prefixes = self._layout(options, store)
        previous = lake_state.load(request.previous_state)
        plans: dict[tuple[str, str], _Plan] = {}
        reads: list[tuple[_Plan, str, Future]] = []

        with ThreadPoolExecutor(max_workers=options.read_concurrency, thread_name_prefix="canon-lake") as pool:

            def plan_and_read(group: _Group) -> None:
                """A dataset whose files are all listed: plan its reads and start them (a later plan replaces it)."""
                if not schema_in_scope(group.schema, include, exclude):
                    return
                plan = self._plan(group, previous.get(lake_state.dataset_key(group.schema, group.name)), options)
                plans[(group.schema, group.name)] = plan
                reads.extend((plan, f[KEY], pool.submit(self._read_one, store, plan, f, options)) for f in plan.to_read)

            # In the default layout a dataset's keys are one contiguous run of the listing, so its
            # reads can start as soon as the listing has moved past it, while listing goes on.
            streaming = isinstance(layout, DefaultLayout) and len(prefixes) == 1
            try:
                groups, ignored, done, late = self._list(store, layout, prefixes, plan_and_read if streaming else None)
            except BaseException:
                for _, _, future in reads:
                    future.cancel()
                raise
            for dataset, group in groups.items():
                if dataset not in done or dataset in late:
                    plan_and_read(group)
            for plan, key, future in reads:
                result = future.result()
                if plans.get((plan.group.schema, plan.group.name)) is plan:
                    plan.results[key] = result
            if options.owner_tag and options.object_tags:
                self._read_owner_tags(store, pool, list(plans.values()), options.owner_tag)

        stray_unnamed = _assign_to_datasets(store.unnamed_keys, groups, "unnamed")
        stray_links = _assign_to_datasets(store.outside_links, groups, "outside_links")
        available = sorted({g.schema for g in groups.values()})
        owners = _Owners(store, options.owner_tag)
        datasets, new_state = [], {}
        for plan in sorted(plans.values(), key=lambda p: (p.group.schema, p.group.name)):
            meta, entry = self._assemble(store, plan, owners)
            datasets.append(meta)
            new_state[lake_state.dataset_key(plan.group.schema, plan.group.name)] = entry
        warnings = self.scope_warnings(available, include)
        if ignored:
            examples = ", ".join(sorted(ignored)[:3])
            warnings.append(f"{ignored.count} object(s) of no format Canon reads were left out (e.g. {examples}).")
        if stray_unnamed:
            warnings.append(unnamed_warning(stray_unnamed, ""))
        if stray_links:
            warnings.append(outside_links_warning(stray_links, ""))
        return Extraction(
            datasets=datasets,
            schemas=sorted({p.group.schema for p in plans.values()}),
            warnings=[self.clean_message(w) for w in warnings],
            state={"v": lake_state.STATE_VERSION, "datasets": new_state, "csv": options.csv_reading()},
        )

    def _list(self, store: ObjectStore, layout, prefixes: list[str], on_complete=None):
        """Groups of data files by dataset. With on_complete, each group whose location the listing
        has passed is handed over as soon as a page ends; a key arriving later for such a group (two
        folders that map to one name) puts it in `late`, to be planned again."""
        groups: dict[tuple[str, str], _Group] = {}
        ignored: _Ignored = _Ignored()
        formats: dict[str, tuple[str, str] | None] = {}  # file-name suffix -> format, cached
        listing: dict[tuple[str, str], _Group] = {}  # groups the listing may still add to
        done: set[tuple[str, str]] = set()
        late: set[tuple[str, str]] = set()
        try:
            for prefix in prefixes:
                for page in store.list(prefix):
                    for key, size, etag, modified in page:
                        if not is_data_key(key):
                            continue
                        placement = layout.place(key)
                        if placement is None:
                            continue
                        name = key.rpartition("/")[2]
                        suffix = name[name.find(".", 1):] if "." in name[1:] else name
                        found = formats.get(suffix, False)
                        if found is False:
                            found = formats[suffix] = file_format(name)
                        if found is None:
                            ignored.add(key)
                            continue
                        dataset = (placement.schema, placement.name)
                        group = groups.get(dataset)
                        if group is None:
                            group = groups[dataset] = _Group(placement.schema, placement.name, placement.location)
                        group.by_format.setdefault(found[0], []).append(
                            (key, size, etag, modified, found[1], placement.partitions))
                        if on_complete is not None:
                            if dataset in done:
                                late.add(dataset)
                            else:
                                listing[dataset] = group
                    if on_complete is not None and page:
                        last = page[-1][0]
                        for dataset, group in list(listing.items()):
                            if not last.startswith(group.location):
                                del listing[dataset]
                                done.add(dataset)
                                on_complete(group)
        except StoreError as exc:
            raise ConnectorError(self.clean_message(str(exc))) from None
        return groups, ignored, done, late

    def _plan(self, group: _Group, previous: dict | None, options: LakeOptions) -> _Plan:
        # A folder of several formats: the one with the most files is the dataset.
        fmt = max(group.by_format, key=lambda f: (len(group.by_format[f]), -FORMATS.index(f)))
        if fmt == CSV and options.csv_reread:
            previous = None  # read as a first crawl reads: the newest sample_files files
        files = list(group.by_format[fmt])  # a snapshot: a late key must not shift it under running reads
        ids = [lake_state.file_id(f[KEY], f[ETAG]) for f in files]
        if previous is None:
            newest = sorted((f for f in files if f[SIZE] > 0), key=lambda f: (f[MODIFIED], f[KEY]), reverse=True)
            to_read = newest[: options.sample_files]
        else:
            seen = lake_state.unpack(previous.get("seen", ""))
            to_read = [f for f, i in zip(files, ids) if i not in seen and f[SIZE] > 0]
        return _Plan(group=group, fmt=fmt, files=files, ids=ids, previous=previous, to_read=to_read)

    @staticmethod
    def _read_one(store: ObjectStore, plan: _Plan, f: tuple, options: LakeOptions) -> FileSchema:
        key, size, etag = f[KEY], f[SIZE], f[ETAG]
        try:
            result = read_schema(plan.fmt, f[COMPRESSION], lambda start, length: store.read_range(key, start, length, etag),
                                 size, sample_bytes=options.sample_bytes, csv_dialect=options.csv_dialect(key))
        except StoreError as exc:
            message = str(exc)
            result = FileSchema(problem=message.split(": ", 1)[-1] if message.startswith("reading ") else message,
                                transient=exc.transient)
        except Exception as exc:  # a reader's surprise is this file's problem, not the crawl's
            result = FileSchema(problem=f"unreadable: {exc.__class__.__name__}: {str(exc)[:200]}")
        store.stats.count_file()
        return result

    @staticmethod
    def _read_owner_tags(store: ObjectStore, pool: ThreadPoolExecutor, plans: list[_Plan], tag: str) -> None:
        """The owner tag of each dataset's newest file read this crawl: one request per dataset with new files."""
        jobs = []
        for plan in plans:
            readable = [f for f in plan.to_read if plan.results[f[KEY]].columns is not None]
            if readable:
                jobs.append((plan, max(readable, key=lambda f: (f[MODIFIED], f[KEY]))[KEY]))
        for plan, owner in pool.map(lambda job: (job[0], store.object_tag(job[1], tag)), jobs):
            plan.owner_tag = owner

    def _assemble(self, store: ObjectStore, plan: _Plan, owners: "_Owners") -> tuple[DatasetMeta, dict]:
        group, files, previous = plan.group, plan.files, plan.previous or {}
        current = set(plan.ids)
        keys = {f[KEY] for f in files} if (plan.results or plan.previous is not None) else set()

        # Schemas known from earlier crawls, for files still there unchanged.
        variants = []
        for v in previous.get("variants") or []:
            members = lake_state.unpack(v.get("f", "")) & current
            if members:
                variants.append({"c": v["c"], "f": members, "e": [k for k in v.get("e", []) if k in keys]})
        problems = {k: p for k, p in (previous.get("problems") or {}).items() if p[0] in current and k in keys}

        transient: set[int] = set()
        transient_warnings: list[str] = []
        by_key = dict(zip((f[KEY] for f in files), plan.ids))
        for f in sorted(plan.to_read, key=lambda f: (f[MODIFIED], f[KEY])):
            key, result = f[KEY], plan.results.get(f[KEY])
            if result is None:
                continue
            fid = by_key[key]
            if result.transient:
                transient.add(fid)
                transient_warnings.append(f"{relative(key, group.location)}: {result.problem} (tried again next crawl)")
                continue
            for variant in variants:  # a rewritten file is an example of its new schema only
                if key in variant["e"]:
                    variant["e"].remove(key)
            if result.columns is not None:
                add_to_variants(variants, result.columns, fid, key)
            messages = [result.problem] if result.problem else list(result.notes)
            if messages:
                problems[key] = [fid, "; ".join(messages)]
            else:
                problems.pop(key, None)

        merged, _ = merge_columns([v["c"] for v in variants])
        warnings = variant_warnings(variants, merged, group.location)
        for key in sorted(problems)[:MAX_PROBLEM_WARNINGS]:
            warnings.append(f"{relative(key, group.location)}: {problems[key][1]}")
        if len(problems) > MAX_PROBLEM_WARNINGS:
            warnings.append(f"and {len(problems) - MAX_PROBLEM_WARNINGS} more files with problems")
        warnings += transient_warnings
        if group.unnamed:
            warnings.append(unnamed_warning(group.unnamed, group.location))
        if group.outside_links:
            warnings.append(outside_links_warning(group.outside_links, group.location))

        empty = [f[KEY] for f in files if f[SIZE] == 0]
        if empty:
            shown = ", ".join(relative(k, group.location) for k in empty[:3])
            warnings.append(f"{len(empty)} empty file(s), no data: {shown}")
        for other, others in sorted(group.by_format.items()):
            if other != plan.fmt:
                shown = ", ".join(relative(f[KEY], group.location) for f in others[:3])
                warnings.append(f"{len(others)} {FORMAT_LABELS[other]} file(s) left out: this folder is a "
                                f"{FORMAT_LABELS[plan.fmt]} dataset (e.g. {shown})")

        partition_columns, partition_facts, layout_warning = partitions_of(files, group.location)
        if layout_warning:
            warnings.append(layout_warning)
        if not variants:
            warnings.append("no file's schema could be read yet: columns show partition keys only" if partition_columns
                            else "no file's schema could be read yet")

        columns = [ColumnMeta(name=c[0], data_type=c[1], position=i + 1, nullable=c[2], type_family=c[3])
                   for i, c in enumerate(merged)]
        names = {c.name for c in columns}
        for column in partition_columns:
            if column.name not in names:
                column.position = len(columns) + 1
                columns.append(column)

        owner_tag = plan.owner_tag or previous.get("owner") or None
        owner, owner_from = (owner_tag, "object tag") if owner_tag else owners.default()

        sizes = [f[SIZE] for f in files]
        modified = [f[MODIFIED] for f in files]
        compressions = {f[COMPRESSION] for f in files}
        properties = {
            "format": plan.fmt,
            "location": store.location(group.location),
            "objects": len(files),
            "total_bytes": sum(sizes),
            "first_modified": min(modified).isoformat(),
            "last_modified": max(modified).isoformat(),
            "schema_files": sum(len(v["f"]) for v in variants),
            "schema_variants": len(variants),
        }
        if plan.fmt != PARQUET:
            properties["compression"] = (compressions.pop() or "none") if len(compressions) == 1 else "mixed"
        if partition_facts:
            properties["partition_keys"] = partition_facts
            properties["partitions"] = len({f[PARTITIONS] for f in files})
        if owner:
            properties["owner_from"] = owner_from

        meta = DatasetMeta(
            schema=group.schema,
            name=group.name,
            kind=FILE_SET,
            columns=columns,
            owner=owner or "",
            size_bytes=sum(sizes),
            native_id=store.location(group.location),
            last_modified=max(modified),
            properties=properties,
            warnings=[self.clean_message(w) for w in warnings],
        )
        meta.column_stats = _footer_profiles(plan)
        entry = {"seen": lake_state.pack(current - transient)}
        if variants:
            entry["variants"] = [{"c": v["c"], "f": lake_state.pack(v["f"]), "e": v["e"]} for v in variants]
        if problems:
            entry["problems"] = problems
        if owner_tag:
            entry["owner"] = owner_tag
        return meta, entry


class _Ignored:
    """Objects of an unknown format: counted, a few kept as examples."""

    def __init__(self):
        self.count = 0
        self.examples: list[str] = []

    def add(self, key: str) -> None:
        self.count += 1
        if len(self.examples) < 3:
            self.examples.append(key)

    def __bool__(self):
        return self.count > 0

    def __iter__(self):
        return iter(self.examples)


class _Owners:
    """The bucket's (or folder's) owner, read at most once per crawl and only if needed."""

    def __init__(self, store: ObjectStore, tag: str):
        self.store, self.tag = store, tag
        self._default: tuple[str, str] | None = None

    def default(self) -> tuple[str, str]:
        if self._default is None:
            owner = self.store.root_tag(self.tag) if self.tag else None
            if owner:
                self._default = (owner, "bucket tag" if isinstance(self.store, S3Store) else "folder tag")
            else:
                owner = self.store.root_owner()
                self._default = (owner, "bucket owner" if isinstance(self.store, S3Store) else "folder owner")
        return self._default


def _assign_to_datasets(keys: set[str], groups: dict[tuple[str, str], _Group], slot: str) -> list[str]:
    """Give each key the store left out (unnamed, or a link leading outside) to the list `slot` of the dataset
    whose folder holds it; returns the others."""
    by_location = {group.location: group for group in groups.values()}
    stray = []
    for key in sorted(keys):
        folder = key.rstrip("/")
        while "/" in folder:
            folder = folder.rpartition("/")[0]
            group = by_location.get(folder + "/")
            if group is not None:
                getattr(group, slot).append(key)
                break
        else:
            stray.append(key)
    return stray


def _footer_profiles(plan) -> dict | None:
    """Column profiles from the footers of the Parquet files read this crawl (new or rewritten files: a recrawl
    of an unchanged lake reads none, so it has none). None when no footer with statistics was read."""
    stats = [r.stats for r in plan.results.values() if r.stats]
    return merge_footer_stats(stats) or None
