"""Sources that open files on this server read only inside the folders CANON_FILE_ROOTS lists.

Which sources those are is the connector's to say (`Connector.local_paths`): a folder source
(file://) names the folder the data-lake connector lists, a SQLite or DuckDB source (sqlite:///,
duckdb:///) the database file it opens; a server reached over the network names none. Each path
is compared as the connector will open it, with symbolic links and '..' resolved, so neither a
link nor a '../..' in the URL leads outside a root. A root is a folder (the path may be it or lie
inside it) or a single file. An empty list allows no such source at all.

Django-free: the roots are passed in.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from catalog.connectors.base import ConnectorError
from catalog.connectors.registry import connector_for
from catalog.core.sourceurl import InvalidSourceURL, SourceURL


class PathNotAllowed(ValueError):
    """A source would open a file or folder outside the allowed roots. The message is safe to show."""


def real_path(path: str | Path) -> Path:
    """An absolute path with '~', '..' and every symbolic link resolved (a missing tail is kept as written)."""
    return Path(os.path.realpath(Path(path).expanduser()))


def within_roots(path: Path, roots: Iterable[str | Path]) -> bool:
    """Whether the (resolved) path is one of the roots or inside one; roots are resolved too."""
    for root in roots:
        root = real_path(root)
        if path == root or root in path.parents:
            return True
    return False


def check_local_paths(url: SourceURL, roots: Iterable[str | Path]) -> None:
    """Raises PathNotAllowed unless every file or folder the URL's connector opens on this server lies inside
    one of roots. URLs of servers reached over the network (and schemes no connector reads) pass."""
    try:
        connector = connector_for(url)
        paths = connector.local_paths()
    except ConnectorError as exc:  # e.g. file:// without a folder
        raise PathNotAllowed(str(exc)) from None
    except InvalidSourceURL:  # a scheme no connector reads: the caller's own check of the URL says so
        return
    if not paths:
        return
    noun = "Folder" if url.scheme == "file" else "File"
    roots = [str(root) for root in roots if str(root).strip()]
    if not roots:
        kind = "Folder sources" if url.scheme == "file" else f"{connector.engine_label} files"
        raise PathNotAllowed(f"{kind} ({url.scheme}://) are not allowed here: CANON_FILE_ROOTS lists no folder.")
    for path in paths:
        try:
            resolved = real_path(path)
            inside = within_roots(resolved, roots)
        except (OSError, ValueError):  # a NUL byte in the path, a name too long
            raise PathNotAllowed(f"{noun} {path!r} is not a path Canon can read.") from None
        if not inside:
            raise PathNotAllowed(
                f"{noun} {resolved} is outside the folders Canon may read (CANON_FILE_ROOTS: {', '.join(roots)})."
            )
