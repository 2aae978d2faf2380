"""Sources that open files on this server (file:// folders, SQLite and DuckDB files) stay inside CANON_FILE_ROOTS:
links and '..' are resolved before comparing."""

import os
import sqlite3

import duckdb
import pytest

from catalog.core.crypto import encrypt
from catalog.core.sourceurl import parse_source_url
from catalog.inventory.models import Dataset
from catalog.sources.fileroots import PathNotAllowed, check_local_paths
from catalog.sources.models import Crawl, Source
from catalog.crawls.services import source_crawl
from catalog.sources.services import SourceError, source_create, source_test_connection, source_update


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "lakes"
    (folder / "sales").mkdir(parents=True)
    (tmp_path / "private").mkdir()
    return folder


def allowed(url: str, roots) -> bool:
    try:
        check_local_paths(parse_source_url(url), roots)
    except PathNotAllowed:
        return False
    return True


def test_a_root_and_the_folders_inside_it_are_allowed(root):
    assert allowed(f"file://{root}", [str(root)])
    assert allowed(f"file://{root}/sales", [str(root)])
    assert allowed(f"file://{root}/not-made-yet", [str(root)])
    assert allowed(f"file://{root}/sales", ["/nowhere", str(root)])


def test_folders_outside_every_root_are_refused_with_the_folder_and_the_roots(root, tmp_path):
    with pytest.raises(PathNotAllowed) as refused:
        check_local_paths(parse_source_url("file:///etc"), [str(root)])
    assert str(refused.value) == f"Folder /etc is outside the folders Canon may read (CANON_FILE_ROOTS: {root})."
    assert not allowed(f"file://{tmp_path}", [str(root)]), "the folder above a root is outside it"
    assert not allowed(f"file://{root}-more", [str(root)]), "a name that merely starts like the root is outside it"


def test_dot_dot_cannot_climb_out_of_a_root(root):
    assert not allowed(f"file://{root}/sales/../../private", [str(root)])
    assert not allowed(f"file://{root}/../../../../etc", [str(root)])
    assert allowed(f"file://{root}/sales/../sales", [str(root)])


def test_a_link_inside_a_root_cannot_lead_out_of_it(root, tmp_path):
    os.symlink(tmp_path / "private", root / "shortcut")
    os.symlink("/etc", root / "etc")
    assert not allowed(f"file://{root}/shortcut", [str(root)])
    assert not allowed(f"file://{root}/etc", [str(root)])


def test_a_root_given_through_a_link_allows_the_real_folder(root, tmp_path):
    os.symlink(root, tmp_path / "lakes-link")
    assert allowed(f"file://{root}/sales", [str(tmp_path / "lakes-link")])
    assert allowed(f"file://{tmp_path}/lakes-link/sales", [str(root)])


def test_no_roots_means_no_folder_sources(root):
    with pytest.raises(PathNotAllowed, match="CANON_FILE_ROOTS lists no folder"):
        check_local_paths(parse_source_url(f"file://{root}"), [])
    assert not allowed(f"file://{root}", [""]), "an empty entry is no root (CANON_FILE_ROOTS= with nothing after it)"


def test_a_relative_folder_is_resolved_from_the_working_directory(root, monkeypatch):
    monkeypatch.chdir(root)
    assert allowed("file://sales", [str(root)])
    assert not allowed("file://../private", [str(root)])


def test_other_kinds_of_source_are_not_concerned():
    assert allowed("postgresql://u:p@h/db", [])
    assert allowed("s3://bucket/prefix", [])


# Where the roots are enforced: adding and editing a source, testing its connection, and every crawl.

@pytest.fixture
def lake(tmp_path, settings):
    folder = tmp_path / "allowed" / "lake"
    (folder / "orders").mkdir(parents=True)
    (folder / "orders" / "part-0.csv").write_text("order_id,total\n1,9.5\n")
    settings.CANON_FILE_ROOTS = [str(tmp_path / "allowed")]
    return folder


@pytest.mark.django_db
def test_adding_or_editing_a_source_outside_the_roots_is_refused(lake, tmp_path):
    with pytest.raises(SourceError, match=r"^Folder /etc is outside the folders Canon may read \(CANON_FILE_ROOTS: "):
        source_create(name="etc", url="file:///etc")
    with pytest.raises(SourceError, match="is outside the folders"):
        source_create(name="climb", url=f"file://{lake}/../../../private")
    assert not Source.objects.exists()
    source = source_create(name="lake", url=f"file://{lake}")
    with pytest.raises(SourceError, match="Folder /etc is outside"):
        source_update(source, url="file:///etc")
    source.refresh_from_db()
    assert source.url == f"file://{lake}" and source.url_display == f"file://{lake}"


@pytest.mark.django_db
def test_testing_a_folder_outside_the_roots_reads_nothing(lake):
    ok, message = source_test_connection("file:///etc")
    assert not ok and message.startswith("Folder /etc is outside") and "passwd" not in message
    ok, message = source_test_connection(f"file://{lake}")
    assert ok, message


@pytest.mark.django_db
def test_a_crawl_outside_the_roots_is_refused_and_changes_nothing(lake, settings, tmp_path):
    """A source saved before the roots changed: its crawls fail with the reason, and nothing is read or removed."""
    source = source_create(name="lake", url=f"file://{lake}")
    assert source_crawl(source).datasets_added == 1
    settings.CANON_FILE_ROOTS = [str(tmp_path / "elsewhere")]
    crawl = source_crawl(Source.objects.get(pk=source.pk))
    assert crawl.status == Crawl.FAILED
    assert crawl.error == f"Folder {lake.resolve()} is outside the folders Canon may read (CANON_FILE_ROOTS: {tmp_path / 'elsewhere'})."
    assert crawl.warnings == [] and crawl.datasets_seen == 0
    assert Dataset.objects.present().filter(source=source).count() == 1, "a refused crawl removes nothing"
    settings.CANON_FILE_ROOTS = []
    assert "CANON_FILE_ROOTS lists no folder" in source_crawl(Source.objects.get(pk=source.pk)).error


@pytest.mark.django_db
def test_a_folder_source_of_etc_lists_none_of_its_files(settings):
    """The issue's case: a staff-made file:///etc source listed the server's file names in its warnings."""
    settings.CANON_FILE_ROOTS = ["/srv/canon-lakes"]
    source = Source.objects.create(name="etc", engine="file", url_display="file:///etc", url_encrypted=encrypt("file:///etc"))
    crawl = source_crawl(source)
    assert crawl.status == Crawl.FAILED and crawl.warnings == []
    assert "passwd" not in crawl.error and "hosts" not in crawl.error


# SQLite and DuckDB sources open a database file on this server: the same roots, the file as the connector opens it.

def sqlite_file(path):
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE orders (order_id INTEGER PRIMARY KEY, total NUMERIC);")
    conn.close()
    return path


def duckdb_file(path):
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE orders (order_id INTEGER PRIMARY KEY, total DECIMAL(10, 2))")
    conn.close()
    return path


@pytest.fixture
def files(tmp_path):
    """Allowed: tmp_path/allowed. A database file inside it and one beside it, of each engine."""
    (tmp_path / "allowed").mkdir()
    (tmp_path / "private").mkdir()
    return {
        "sqlite": (sqlite_file(tmp_path / "allowed" / "shop.db"), sqlite_file(tmp_path / "private" / "hr.db")),
        "duckdb": (duckdb_file(tmp_path / "allowed" / "shop.duckdb"), duckdb_file(tmp_path / "private" / "hr.duckdb")),
    }


@pytest.mark.parametrize("scheme", ["sqlite", "duckdb"])
def test_a_database_file_must_lie_inside_a_root(scheme, files, tmp_path):
    inside, outside = files[scheme]
    roots = [str(tmp_path / "allowed")]
    assert allowed(f"{scheme}:///{inside}", roots)
    assert allowed(f"{scheme}:///{tmp_path}/allowed/not-made-yet.db", roots), "the connector says it is missing"
    with pytest.raises(PathNotAllowed) as refused:
        check_local_paths(parse_source_url(f"{scheme}:///{outside}"), roots)
    assert str(refused.value) == f"File {outside} is outside the folders Canon may read (CANON_FILE_ROOTS: {roots[0]})."
    assert not allowed(f"{scheme}:////etc/passwd", roots)
    assert not allowed(f"{scheme}:///{tmp_path}/allowed/../private/{outside.name}", roots)
    os.symlink(outside, tmp_path / "allowed" / "shortcut.db")
    assert not allowed(f"{scheme}:///{tmp_path}/allowed/shortcut.db", roots), "a link is judged by where it leads"
    os.symlink(inside, tmp_path / "private" / "back.db")
    assert allowed(f"{scheme}:///{tmp_path}/private/back.db", roots)


def test_a_database_file_is_the_one_the_connector_opens(files, tmp_path, monkeypatch):
    """sqlite:///shop.db is /shop.db if that exists, else shop.db in the working directory (local_path):
    the check resolves the same path the connector will open."""
    monkeypatch.chdir(tmp_path / "allowed")
    assert allowed("sqlite:///shop.db", [str(tmp_path / "allowed")])
    monkeypatch.chdir(tmp_path / "private")
    assert not allowed("duckdb:///hr.duckdb", [str(tmp_path / "allowed")])


def test_a_root_may_be_one_file(files, tmp_path):
    inside, _ = files["sqlite"]
    sqlite_file(tmp_path / "allowed" / "other.db")
    assert allowed(f"sqlite:///{inside}", [str(inside)])
    assert not allowed(f"sqlite:///{tmp_path}/allowed/other.db", [str(inside)])
    assert not allowed(f"file://{tmp_path}/allowed", [str(inside)])


@pytest.mark.parametrize("scheme, label", [("sqlite", "SQLite"), ("duckdb", "DuckDB")])
def test_no_roots_means_no_database_files(scheme, label, files):
    with pytest.raises(PathNotAllowed) as refused:
        check_local_paths(parse_source_url(f"{scheme}:///{files[scheme][0]}"), [])
    assert str(refused.value) == f"{label} files ({scheme}://) are not allowed here: CANON_FILE_ROOTS lists no folder."


@pytest.fixture
def database_roots(files, tmp_path, settings):
    settings.CANON_FILE_ROOTS = [str(tmp_path / "allowed")]
    return files


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["sqlite", "duckdb"])
def test_adding_editing_or_testing_a_database_file_outside_the_roots_is_refused(scheme, database_roots):
    inside, outside = database_roots[scheme]
    refused = f"File {outside} is outside the folders Canon may read (CANON_FILE_ROOTS: "
    with pytest.raises(SourceError) as error:
        source_create(name="hr", url=f"{scheme}:///{outside}")
    assert str(error.value).startswith(refused)
    with pytest.raises(SourceError, match=r"^File /etc/passwd is outside the folders"):
        source_create(name="passwd", url=f"{scheme}:////etc/passwd")
    assert not Source.objects.exists()
    source = source_create(name="shop", url=f"{scheme}:///{inside}")
    with pytest.raises(SourceError) as error:
        source_update(source, url=f"{scheme}:///{outside}")
    assert str(error.value).startswith(refused)
    source.refresh_from_db()
    assert source.url == f"{scheme}:///{inside}"
    ok, message = source_test_connection(f"{scheme}:///{outside}")
    assert not ok and message.startswith(refused), message
    ok, message = source_test_connection(f"{scheme}:////etc/passwd")
    assert not ok and message.startswith("File /etc/passwd is outside") and "database" not in message
    ok, message = source_test_connection(f"{scheme}:///{inside}")
    assert ok and str(inside) in message, message


@pytest.mark.django_db
def test_testing_a_duckdb_path_outside_the_roots_creates_nothing(database_roots, tmp_path):
    ok, message = source_test_connection(f"duckdb:///{tmp_path}/private/new.duckdb")
    assert not ok and "is outside the folders" in message
    assert not (tmp_path / "private" / "new.duckdb").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["sqlite", "duckdb"])
def test_a_crawl_of_a_database_file_outside_the_roots_fails_and_changes_nothing(scheme, database_roots, settings, tmp_path):
    """A source saved before the roots changed: its crawls fail with the reason, reading and removing nothing."""
    inside, _ = database_roots[scheme]
    source = source_create(name="shop", url=f"{scheme}:///{inside}")
    assert source_crawl(source).datasets_added == 1
    settings.CANON_FILE_ROOTS = [str(tmp_path / "elsewhere")]
    crawl = source_crawl(Source.objects.get(pk=source.pk))
    assert crawl.status == Crawl.FAILED
    assert crawl.error == f"File {inside} is outside the folders Canon may read (CANON_FILE_ROOTS: {tmp_path / 'elsewhere'})."
    assert crawl.warnings == [] and crawl.datasets_seen == 0
    assert Dataset.objects.present().filter(source=source).count() == 1, "a refused crawl removes nothing"


@pytest.mark.django_db
def test_a_sqlite_source_of_a_server_file_reads_none_of_it(settings):
    """The issue's case for database files: a staff-made source of /etc/passwd, saved before the roots were set."""
    settings.CANON_FILE_ROOTS = ["/srv/canon-lakes"]
    url = "sqlite:////etc/passwd"
    source = Source.objects.create(name="passwd", engine="sqlite", url_display=url, url_encrypted=encrypt(url))
    crawl = source_crawl(source)
    assert crawl.status == Crawl.FAILED and crawl.warnings == []
    assert crawl.error.startswith("File /etc/passwd is outside the folders Canon may read")
    assert "database" not in crawl.error, "the file was not opened"
