"""Folder sources (file://) read only inside the folders CANON_FILE_ROOTS lists.

Django-free: the roots are passed in. The folder is the one the data-lake connector will read
(its LocalStore), with symbolic links and '..' resolved, so neither a link nor a '../..' in the
URL leads outside a root. An empty list allows no folder at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from catalog.connectors.lake.stores import LocalStore, StoreError
from catalog.core.sourceurl import SourceURL


class FolderNotAllowed(ValueError):
    """A file:// source names a folder outside the allowed roots. The message is safe to show."""


def file_url_folder(url: SourceURL) -> Path:
    """The folder a file:// URL reads, as an absolute path with links and '..' resolved."""
    try:
        return LocalStore(url).root.resolve()
    except StoreError as exc:
        raise FolderNotAllowed(str(exc)) from None


def within_roots(folder: Path, roots: Iterable[str | Path]) -> bool:
    """Whether the (resolved) folder is one of the roots or inside one; roots are resolved too."""
    for root in roots:
        root = Path(root).expanduser().resolve()
        if folder == root or root in folder.parents:
            return True
    return False


def check_file_url(url: SourceURL, roots: Iterable[str | Path]) -> None:
    """Raises FolderNotAllowed unless a file:// URL's folder is inside one of roots; other schemes pass."""
    if url.scheme != "file":
        return
    roots = [str(root) for root in roots if str(root).strip()]
    folder = file_url_folder(url)
    if not roots:
        raise FolderNotAllowed("Folder sources (file://) are not allowed here: CANON_FILE_ROOTS lists no folder.")
    if not within_roots(folder, roots):
        raise FolderNotAllowed(
            f"Folder {folder} is outside the folders Canon may read (CANON_FILE_ROOTS: {', '.join(roots)})."
        )
