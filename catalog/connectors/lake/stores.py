"""Object stores: the few operations the lake connector needs, over S3 and a local folder.

Both answer the same questions the same way, so one connector serves ``s3://`` and
``file://``: list keys under a prefix (with size, ETag and modification time), read a byte
range of one object, and read an owner tag. Every read goes through ``read_range`` and is
counted in ``stats``, so a crawl's cost in requests and bytes is known and testable.

Errors are ``StoreError`` with a message a person can act on and no secret; ``transient`` says
whether trying again later may succeed (access denied, a vanished key, a timeout) as opposed
to something wrong with the object itself.
"""

from __future__ import annotations

import os
import pwd
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import boto3
from botocore import exceptions as bx
from botocore.config import Config
from botocore.exceptions import ClientError

from catalog.connectors.lake.layout import is_hidden_segment
from catalog.core.sourceurl import SourceURL

# (key, size, etag, last_modified): a tuple, because a listing may hold millions.
ObjectInfo = tuple[str, int, str, datetime]
PAGE_SIZE = 1000


class StoreError(Exception):
    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass
class StoreStats:
    """What a crawl cost: listing requests, content requests and bytes of content read."""

    list_requests: int = 0
    objects_listed: int = 0
    read_requests: int = 0
    bytes_read: int = 0
    files_read: int = 0
    metadata_requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_read(self, nbytes: int) -> None:
        with self._lock:
            self.read_requests += 1
            self.bytes_read += nbytes

    def count_file(self) -> None:
        with self._lock:
            self.files_read += 1

    def count_metadata(self) -> None:
        with self._lock:
            self.metadata_requests += 1

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("list_requests", "objects_listed", "read_requests", "bytes_read", "files_read",
                                              "metadata_requests")}


class ObjectStore:
    scheme = ""
    root_name = ""  # the bucket, or the folder's name: the first part of every schema

    def __init__(self):
        self.stats = StoreStats()
        # Keys the listing found but could not name in text (a local file name that is not UTF-8), as readable
        # escapes (caf\xe9.csv; a folder's ends with /). They are not listed: no string holding them can be
        # stored, hashed or shown, so the connector reports them as left out instead of failing the crawl.
        self.unnamed_keys: set[str] = set()
        # Keys of symbolic links the listing found that lead outside the store's folder (LocalStore), left out
        # unread: the connector names them (never what they point to) on their dataset.
        self.outside_links: set[str] = set()

    def list(self, prefix: str) -> Iterator[list[ObjectInfo]]:
        """Pages of objects whose key starts with prefix, in key order. Raises StoreError."""
        raise NotImplementedError

    def read_range(self, key: str, start: int, length: int, etag: str = "") -> bytes:
        """length bytes from start; when etag is given, only from that version of the object."""
        raise NotImplementedError

    def object_tag(self, key: str, tag: str) -> str | None:
        raise NotImplementedError

    def root_tag(self, tag: str) -> str | None:
        raise NotImplementedError

    def root_owner(self) -> str:
        raise NotImplementedError

    def location(self, key: str) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def _s3_error(exc: Exception, doing: str, endpoint: str) -> StoreError:
    """botocore's exceptions as one line a person can act on."""
    where = endpoint or "AWS S3"
    if isinstance(exc, bx.EndpointConnectionError) or isinstance(exc, bx.ConnectionClosedError):
        return StoreError(f"could not connect to the S3 endpoint {where}: nothing answered", transient=True)
    if isinstance(exc, (bx.ConnectTimeoutError, bx.ReadTimeoutError)):
        return StoreError(f"the S3 endpoint {where} did not answer in time while {doing}", transient=True)
    if isinstance(exc, bx.NoCredentialsError):
        return StoreError("no AWS credentials: put KEY:SECRET in the source URL or configure the default AWS credential chain")
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        messages = {
            "NoSuchBucket": f"{doing}: the bucket does not exist",
            "AccessDenied": f"{doing}: access denied",
            "403": f"{doing}: access denied",
            "AllAccessDisabled": f"{doing}: access to this bucket is disabled",
            "InvalidAccessKeyId": f"{doing}: the access key ID is not known to {where}",
            "SignatureDoesNotMatch": f"{doing}: the secret access key does not match the access key ID",
            "ExpiredToken": f"{doing}: the session token has expired",
            "InvalidToken": f"{doing}: the session token is not valid",
            "NoSuchKey": f"{doing}: the object vanished during the crawl",
            "404": f"{doing}: the object vanished during the crawl",
            "PreconditionFailed": f"{doing}: the object changed during the crawl",
            "412": f"{doing}: the object changed during the crawl",
            "PermanentRedirect": f"{doing}: the bucket is in another region; set region= in the source URL",
            "AuthorizationHeaderMalformed": f"{doing}: wrong region for this bucket; set region= in the source URL",
            "InvalidRange": f"{doing}: the requested byte range is outside the object",
            "SlowDown": f"{doing}: the S3 endpoint asked to slow down",
        }
        message = messages.get(code)
        if message is None:
            message = f"{doing}: {code or status or 'error'}: {error.get('Message', '') or exc.__class__.__name__}".rstrip(": ")
        transient = code in ("AccessDenied", "403", "NoSuchKey", "404", "PreconditionFailed", "412", "SlowDown") or (status or 0) >= 500
        return StoreError(message, transient=transient)
    if isinstance(exc, bx.BotoCoreError):
        return StoreError(f"{doing}: {exc}", transient=True)
    return StoreError(f"{doing}: {exc.__class__.__name__}: {exc}", transient=True)


class S3Store(ObjectStore):
    """An S3 bucket (AWS or any S3-compatible endpoint), read with boto3.

    ``s3://KEY:SECRET@bucket/prefix?endpoint_url=http://host:9000&region=eu-west-1``; without
    KEY:SECRET the default AWS credential chain applies. A secret with ``/`` or ``+`` is written
    percent-encoded. Custom endpoints use path-style addressing.
    """

    scheme = "s3"

    def __init__(self, url: SourceURL, *, connect_timeout: int = 10, read_timeout: int = 60, pool_size: int = 10):
        super().__init__()
        if not url.host:
            raise StoreError("the S3 URL has no bucket: write it as s3://bucket/prefix")
        self.bucket = url.host
        self.root_name = self.bucket
        query = {k.lower(): v for k, v in url.query.items()}
        self.endpoint = query.get("endpoint_url") or query.get("endpoint") or ""
        region = query.get("region") or query.get("region_name") or None
        session = boto3.session.Session(
            aws_access_key_id=url.username or query.get("aws_access_key_id") or None,
            aws_secret_access_key=url.password or query.get("aws_secret_access_key") or query.get("secret_access_key") or None,
            aws_session_token=query.get("aws_session_token") or query.get("session_token") or None,
            region_name=region,
            profile_name=query.get("profile") or None,
        )
        addressing = query.get("addressing_style") or ("path" if self.endpoint else "auto")
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=pool_size,
            s3={"addressing_style": addressing},
        )
        try:
            self.client = session.client("s3", endpoint_url=self.endpoint or None, config=config)
        except Exception as exc:  # a malformed endpoint URL, an unknown profile
            raise StoreError(f"cannot set up the S3 client: {exc}") from None

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def describe(self) -> str:
        return f"S3 bucket {self.bucket}" + (f" at {self.endpoint}" if self.endpoint else "")

    def list(self, prefix: str) -> Iterator[list[ObjectInfo]]:
        doing = f"listing {self.location(prefix)}"
        kwargs = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": PAGE_SIZE}
        while True:
            try:
                page = self.client.list_objects_v2(**kwargs)
            except Exception as exc:
                raise _s3_error(exc, doing, self.endpoint) from None
            self.stats.list_requests += 1
            contents = page.get("Contents") or ()
            self.stats.objects_listed += len(contents)
            yield [(o["Key"], o["Size"], o["ETag"].strip('"'), o["LastModified"]) for o in contents]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            kwargs["ContinuationToken"] = token

    def read_range(self, key: str, start: int, length: int, etag: str = "") -> bytes:
        if length <= 0:
            return b""
        kwargs = {"Bucket": self.bucket, "Key": key, "Range": f"bytes={start}-{start + length - 1}"}
        if etag:
            kwargs["IfMatch"] = f'"{etag}"'
        try:
            body = self.client.get_object(**kwargs)["Body"]
            data = body.read()
        except Exception as exc:
            raise _s3_error(exc, f"reading {self.location(key)}", self.endpoint) from None
        self.stats.count_read(len(data))
        return data

    def _tags(self, call, **kwargs) -> dict[str, str] | None:

        self.stats.count_metadata()
        try:
            tag_set = call(**kwargs).get("TagSet") or []
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchTagSet", "NoSuchTagSetError"):
                return {}
            return None
        except Exception:
            return None
        return {t.get("Key"): t.get("Value") for t in tag_set}

    def object_tag(self, key: str, tag: str) -> str | None:
        tags = self._tags(self.client.get_object_tagging, Bucket=self.bucket, Key=key)
        return (tags or {}).get(tag) or None

    def root_tag(self, tag: str) -> str | None:
        tags = self._tags(self.client.get_bucket_tagging, Bucket=self.bucket)
        return (tags or {}).get(tag) or None

    def root_owner(self) -> str:
        self.stats.count_metadata()
        try:
            owner = self.client.get_bucket_acl(Bucket=self.bucket).get("Owner") or {}
        except Exception:
            return ""
        return owner.get("DisplayName") or owner.get("ID") or ""


def escaped_name(name: str) -> str | None:
    """None for a name that is UTF-8 text; else the name with each byte that is not UTF-8 written as \\xNN.

    Python hands a local file name whose bytes are not UTF-8 over as a str with surrogate escapes
    (PEP 383), which fails later wherever the text is encoded: hashing, JSON, PostgreSQL.
    """
    try:
        name.encode("utf-8")
        return None
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class LocalStore(ObjectStore):
    """A local or mounted folder: ``file:///abs/path``. Keys are paths relative to it.

    The ETag of a file is its modification time and size, which change when its content does.
    Owner tags are extended attributes (``user.owner``); the folder's owner is its Unix user.

    The store reads inside its folder only: the folder a source may read is checked against the
    allowed roots before a store is made, and a symbolic link below it is judged by where it leads,
    resolved. A link to a file inside the folder is listed and read as that file; a link (to a file
    or a folder) that leads outside is left out unread, its key in ``outside_links``. Symbolic links
    to folders are never followed (they could loop, and inside the folder they would list files
    twice).
    """

    scheme = "file"

    def __init__(self, url: SourceURL):
        super().__init__()
        path = url.path
        if url.host and url.host != "localhost":
            path = url.host + path  # file://relative/path: relative to the working directory
        if not path:
            raise StoreError("the file URL has no folder: write it as file:///absolute/path")
        self.root = Path(path).expanduser().absolute()
        self.root_name = self.root.name or "root"
        # Where the folder really is (a link to it, '..' resolved): what its links may lead to.
        self.real_root = os.path.realpath(self.root)

    def location(self, key: str) -> str:
        return f"file://{self.root}/{key}" if key else f"file://{self.root}/"

    def describe(self) -> str:
        return f"folder {self.root}"

    def _check_root(self) -> None:
        if not self.root.exists():
            raise StoreError(f"folder {self.root} does not exist")
        if not self.root.is_dir():
            raise StoreError(f"{self.root} is not a folder")

    def list(self, prefix: str) -> Iterator[list[ObjectInfo]]:
        self._check_root()
        # Walk from the deepest folder the prefix names in full; keys are filtered by the rest.
        start = prefix.rpartition("/")[0]
        top = self.root / start if start else self.root
        if start and not self.leads_inside(top):  # a path template's folder, through a link or with '..'
            if ".." in start.split("/"):
                raise StoreError(f"listing {start}/: '..' leads outside the folder {self.root}")
            self.outside_links.add(start)
            return
        if not top.is_dir():
            return
        page: list[ObjectInfo] = []
        unnamed: set[str] = set()
        outside: set[str] = set()
        for item in self._walk(top, start, unnamed, outside):
            if item[0].startswith(prefix):
                page.append(item)
                if len(page) >= PAGE_SIZE:
                    self.stats.list_requests += 1
                    self.stats.objects_listed += len(page)
                    yield page
                    page = []
        self.stats.list_requests += 1
        self.stats.objects_listed += len(page)
        self.unnamed_keys.update(key for key in unnamed if key.startswith(prefix))
        self.outside_links.update(key for key in outside if key.startswith(prefix))
        yield page

    def leads_inside(self, path: str | Path) -> bool:
        """Whether a path below the folder, every link on the way resolved, is still inside the folder."""
        real = os.path.realpath(path)
        return real == self.real_root or real.startswith(self.real_root.rstrip("/") + "/")

    def _walk(self, folder: Path, rel: str, unnamed: set[str], outside: set[str]) -> Iterator[ObjectInfo]:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except PermissionError:
            raise StoreError(f"listing {self.location(rel + '/' if rel else '')}: permission denied") from None
        except OSError as exc:
            raise StoreError(f"listing {self.location(rel + '/' if rel else '')}: {exc.strerror or exc}") from None
        for entry in entries:
            key = f"{rel}/{entry.name}" if rel else entry.name
            try:
                readable = escaped_name(entry.name)
                if readable is not None:  # os.scandir decoded a non-UTF-8 name with surrogate escapes
                    if not is_hidden_segment(readable):
                        folder_mark = "/" if entry.is_dir(follow_symlinks=False) else ""
                        unnamed.add((f"{rel}/{readable}" if rel else readable) + folder_mark)
                    continue
                if entry.is_symlink() and not self.leads_inside(entry.path):
                    # Judged before anything of the target is looked at: not even whether it exists.
                    if not is_hidden_segment(entry.name):
                        outside.add(key)
                    continue
                if entry.is_dir(follow_symlinks=False):
                    # Hidden folders (_temporary, .staging) hold no data: no need to descend.
                    if not is_hidden_segment(entry.name):
                        yield from self._walk(Path(entry.path), key, unnamed, outside)
                    continue
                if not entry.is_file():  # follows a link, which leads inside the folder
                    continue
                st = entry.stat()
            except FileNotFoundError:
                continue  # removed while we listed
            except OSError:
                continue
            yield (key, st.st_size, f"{st.st_mtime_ns:x}-{st.st_size:x}",
                   datetime.fromtimestamp(st.st_mtime_ns / 1e9, tz=timezone.utc))

    def read_range(self, key: str, start: int, length: int, etag: str = "") -> bytes:
        if length <= 0:
            return b""
        path = self.root / key
        if not self.leads_inside(path):  # a file replaced by a link to elsewhere since it was listed
            raise StoreError(f"reading {self.location(key)}: it is now a link leading outside the folder")
        try:
            with open(path, "rb") as handle:
                if etag:
                    st = os.fstat(handle.fileno())
                    if f"{st.st_mtime_ns:x}-{st.st_size:x}" != etag:
                        raise StoreError(f"reading {self.location(key)}: the file changed during the crawl", transient=True)
                handle.seek(start)
                data = handle.read(length)
        except PermissionError:
            raise StoreError(f"reading {self.location(key)}: permission denied", transient=True) from None
        except FileNotFoundError:
            raise StoreError(f"reading {self.location(key)}: the file vanished during the crawl", transient=True) from None
        except OSError as exc:
            raise StoreError(f"reading {self.location(key)}: {exc.strerror or exc}", transient=True) from None
        self.stats.count_read(len(data))
        return data

    def _xattr(self, path: Path, tag: str) -> str | None:
        self.stats.count_metadata()
        try:
            return os.getxattr(path, f"user.{tag}").decode("utf-8", "replace").strip() or None
        except (OSError, AttributeError):
            return None

    def object_tag(self, key: str, tag: str) -> str | None:
        return self._xattr(self.root / key, tag)

    def root_tag(self, tag: str) -> str | None:
        return self._xattr(self.root, tag)

    def root_owner(self) -> str:
        try:
            uid = self.root.stat().st_uid
        except OSError:
            return ""
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return str(uid)
