"""Source pages: list, detail with crawl history, the staff-only forms, "test connection"
and "crawl now", against a real PostgreSQL warehouse. No page ever shows a password."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.sources.models import Crawl, CrawlSchedule, Source
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from tests.factories import make_datasets
from tests.shop import build_shop

pytestmark = pytest.mark.django_db

UNREACHABLE = "postgresql://reader:Unreachable-Secret-42@127.0.0.1:1/nowhere"


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    return warehouse


@pytest.fixture
def source(shop):
    return source_create(name="shop", url=shop.url, description="The shop's warehouse")


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


def body(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_source_list_shows_masked_urls_counts_and_last_crawl(client, pg, source):
    source_crawl(source)
    broken = source_create(name="broken", url=UNREACHABLE)
    source_crawl(broken)
    text = body(client.get("/sources/"))
    assert f"postgresql://postgres:***@127.0.0.1:{pg.port}/" in text
    assert "postgresql://reader:***@127.0.0.1:1/nowhere" in text
    assert pg.password not in text and "Unreachable-Secret-42" not in text
    shop_row = re.search(r'<tr>\s*<td><a href="/sources/shop/">shop</a>.*?</tr>', text, re.S).group(0)
    assert '<td class="num">7</td>' in shop_row and '<span class="status succeeded">succeeded</span>' in shop_row
    broken_row = re.search(r'<tr>\s*<td><a href="/sources/broken/">broken</a>.*?</tr>', text, re.S).group(0)
    assert '<td class="num">0</td>' in broken_row and '<span class="status failed">failed</span>' in broken_row
    assert "Add a source" not in text  # only staff see it


def test_source_detail_shows_schemas_and_the_crawl_history(client, pg, source, shop):
    source_crawl(source)
    shop.execute("DROP TABLE scratch.tmp_import")
    shop.execute("ALTER TABLE sales.orders ADD COLUMN note text")
    source_crawl(source)
    response = client.get("/sources/shop/")
    assert response.status_code == 200
    text = body(response)
    assert "The shop&#x27;s warehouse" in text
    schemas = {s["schema_name"]: s["datasets"] for s in response.context["schemas"]}
    assert schemas == {"analytics": 2, "sales": 4}  # scratch's only table was dropped
    assert 'href="/sources/shop/schemas/sales/"' in text, "each schema links to its page"
    crawls = re.search(r'<table class="list crawls">.*?</table>', text, re.S).group(0)
    rows = re.findall(r"<tr>(.*?)</tr>", crawls.split("<tbody>")[1], re.S)
    assert len(rows) == 2
    numbers = [re.findall(r'<td class="num">([^<]*)</td>', row) for row in rows]
    assert numbers[0][:5] == ["6", "0", "1", "1", "22"]  # newest first: seen, added, changed, removed, columns (-1 +1)
    assert numbers[1][:5] == ["7", "7", "0", "0", "22"]
    assert all('<span class="status succeeded">succeeded</span>' in row for row in rows)
    assert pg.password not in text


def test_failed_crawls_and_warnings_are_visible_on_the_source_page(client, source):
    source_crawl(source)
    Source.objects.filter(pk=source.pk).update(include_schemas=["sales", "nomatch_*"])
    source.refresh_from_db()
    assert source_crawl(source).status == Crawl.SUCCEEDED
    broken = source_create(name="broken", url=UNREACHABLE)
    failed = source_crawl(broken)
    assert failed.status == Crawl.FAILED
    text = body(client.get("/sources/shop/"))
    assert "1 warning</summary>" in text and "Schema pattern &#x27;nomatch_*&#x27; matched no schema" in text
    text = body(client.get("/sources/broken/"))
    assert '<p class="error" role="alert">Last crawl failed: ' in text
    assert '<span class="status failed">failed</span>' in text
    assert "127.0.0.1:1" in text and failed.error in text.replace("&#x27;", "'").replace("&quot;", '"')
    assert "Unreachable-Secret-42" not in text and "Traceback" not in text
    assert "Nothing crawled yet." in text


def test_unknown_source_is_a_404(client):
    response = client.get("/sources/nope/")
    assert response.status_code == 404 and "Not found" in body(response)
    assert client.get("/sources/no%20pe/").status_code == 404


def test_source_detail_uses_a_constant_number_of_queries(client, django_assert_max_num_queries):
    source = source_create(name="lake", url="postgresql://reader:not-used@127.0.0.1:1/lake")
    counts = []
    for start, count in ((0, 2), (2, 500)):
        make_datasets(source, count, start=start)
        for _ in range(15):
            source_crawl(source)  # fails: no server; each one is history to show
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/sources/lake/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert len(response.context["crawls"]) == 20  # the newest 20 of 30
    with django_assert_max_num_queries(6):  # the fifth: its edit history (catalog/audit); the sixth: its usage (catalog/usage)
        client.get("/sources/lake/")


def test_source_list_uses_a_constant_number_of_queries(client, django_assert_max_num_queries):
    counts = []
    for names in (["a1"], ["b1", "b2", "b3", "b4", "b5", "b6"]):
        for name in names:
            source_crawl(source_create(name=name, url=f"postgresql://u:p@127.0.0.1:1/{name}"))
        with CaptureQueriesContext(connection) as queries:
            client.get("/sources/")
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(2):
        client.get("/sources/")


# Who may change sources

@pytest.mark.parametrize("method, path", [
    ("get", "/sources/new/"),
    ("post", "/sources/new/"),
    ("get", "/sources/shop/edit/"),
    ("post", "/sources/shop/edit/"),
    ("post", "/sources/shop/test/"),
    ("post", "/sources/shop/crawl/"),
])
def test_anonymous_and_non_staff_people_are_refused(client, plain_user, source, method, path):
    data = {"name": "evil", "url": "postgresql://x:y@127.0.0.1:1/db", "action": "save"} if method == "post" else None
    anonymous = getattr(client, method)(path, data)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/?next=")
    client.force_login(plain_user)
    refused = getattr(client, method)(path, data)
    assert refused.status_code == 403
    assert "Not allowed" in body(refused) and "logged in as bo" in body(refused)
    assert list(Source.objects.values_list("name", flat=True)) == ["shop"]
    assert not Crawl.objects.exists()
    source.refresh_from_db()
    assert source.url_display.startswith("postgresql://postgres:***@")


def test_staff_see_the_source_actions(staff, source):
    text = body(staff.get("/sources/shop/"))
    for action in ('action="/sources/shop/test/"', 'action="/sources/shop/crawl/"', 'href="/sources/shop/edit/"'):
        assert action in text
    assert 'href="/sources/new/"' in body(staff.get("/sources/"))


# Adding a source

def test_staff_add_a_source(staff, pg, shop, staff_user):
    form = staff.get("/sources/new/")
    assert form.status_code == 200 and 'name="url"' in body(form)
    response = staff.post("/sources/new/", {
        "name": "shop", "url": shop.url, "include_schemas": "sales, analytics", "exclude_schemas": "tmp_*",
        "description": "Orders and customers", "action": "save",
    }, follow=True)
    assert response.redirect_chain[-1][0] == "/sources/shop/"
    assert "Source shop added. Crawl it to fill the catalog." in messages_of(response)
    source = Source.objects.get(name="shop")
    assert source.url == shop.url and source.created_by == staff_user
    assert (source.include_schemas, source.exclude_schemas) == (["sales", "analytics"], ["tmp_*"])
    assert pg.password not in body(response)
    assert pg.password not in source.url_display and pg.password not in source.url_encrypted


@pytest.mark.parametrize("data, message", [
    ({"name": "shop"}, "A source named &#x27;shop&#x27; already exists."),
    ({"name": "Bad Name!"}, "A name is lower-case letters, digits, &#x27;-&#x27; and &#x27;_&#x27; (no spaces), e.g. sales-warehouse."),
    ({"url": "mongodb://admin:{password}@127.0.0.1/db"}, "Unknown URL scheme &#x27;mongodb&#x27;"),
    ({"url": "postgresql://admin:{password}@127.0.0.1:99999999/db"}, "the port is not a number"),
    ({"url": "admin:{password}@127.0.0.1/db"}, "The URL has no scheme"),
])
def test_bad_source_input_is_explained_and_the_password_is_not_echoed(staff, pg, source, data, message):
    data = {"name": "second", "url": source.url, "action": "save", **data}
    data["url"] = data["url"].format(password=pg.password)
    response = staff.post("/sources/new/", data)
    assert response.status_code == 200
    text = body(response)
    assert message in text
    assert pg.password not in text
    assert Source.objects.count() == 1


def test_a_folder_outside_the_file_roots_is_refused_on_the_add_and_edit_pages(staff, settings, tmp_path):
    settings.CANON_FILE_ROOTS = [str(tmp_path)]
    refused = "Folder /etc is outside the folders Canon may read (CANON_FILE_ROOTS: "
    response = staff.post("/sources/new/", {"name": "etc", "url": "file:///etc", "action": "save"})
    assert response.status_code == 200 and refused in body(response)
    assert not Source.objects.exists()
    response = staff.post("/sources/new/", {"name": "etc", "url": "file:///etc", "action": "test"})
    assert any(m.startswith(f"Connection failed: {refused}") for m in messages_of(response))
    assert staff.post("/sources/new/", {"name": "files", "url": f"file://{tmp_path}", "action": "save"}).status_code == 302
    response = staff.post("/sources/files/edit/", {"url": "file:///etc", "include_schemas": "", "exclude_schemas": "",
                                                   "description": "", "options": "", "action": "save"})
    assert response.status_code == 200 and refused in body(response)
    assert Source.objects.get(name="files").url == f"file://{tmp_path}"


def test_test_connection_answers_and_never_echoes_the_password(staff, pg, shop):
    wrong = shop.url.replace(pg.password, "Wrong-Password-123")
    response = staff.post("/sources/new/", {"name": "shop", "url": wrong, "action": "test"})
    text = body(response)
    failure = messages_of(response)
    assert len(failure) == 1 and failure[0].startswith("Connection failed: ")
    assert "password authentication failed" in failure[0]
    assert "Wrong-Password-123" not in text
    assert 'value="shop"' in text  # the rest of the form is kept
    assert not Source.objects.exists()

    response = staff.post("/sources/new/", {"name": "shop", "url": shop.url, "action": "test"})
    ok = messages_of(response)
    assert len(ok) == 1 and ok[0].startswith("Connection ok: PostgreSQL ") and shop.name in ok[0]
    assert pg.password not in body(response)
    assert f"Leave empty to use postgresql://postgres:***@127.0.0.1:{pg.port}/{shop.name}" in body(response)
    assert not Source.objects.exists()

    # Saving with the box left empty uses the URL just tested.
    response = staff.post("/sources/new/", {"name": "shop", "url": "", "action": "save"})
    assert response.status_code == 302
    assert Source.objects.get(name="shop").url == shop.url


def test_test_connection_reports_unreachable_hosts_and_missing_databases(staff, pg, shop):
    response = staff.post("/sources/new/", {"name": "gone", "url": UNREACHABLE, "action": "test"})
    (message,) = messages_of(response)
    assert message.startswith("Connection failed: ") and "127.0.0.1:1" in message
    assert "Unreachable-Secret-42" not in body(response)
    missing = shop.url.rsplit("/", 1)[0] + "/no_such_db"
    (message,) = messages_of(staff.post("/sources/new/", {"name": "gone", "url": missing, "action": "test"}))
    assert message.startswith("Connection failed: ") and "no_such_db" in message
    (message,) = messages_of(staff.post("/sources/new/", {"name": "gone", "url": "nonsense", "action": "test"}))
    assert message.startswith("Connection failed: The URL has no scheme")


def test_a_url_typed_before_is_forgotten_when_the_form_is_opened_again(staff, shop):
    staff.post("/sources/new/", {"name": "shop", "url": shop.url, "action": "test"})
    assert "Leave empty to use" not in body(staff.get("/sources/new/"))
    response = staff.post("/sources/new/", {"name": "shop", "url": "", "action": "save"})
    assert response.status_code == 200 and "This field is required." in body(response)
    (message,) = messages_of(staff.post("/sources/new/", {"name": "shop", "url": "", "action": "test"}))
    assert message == "Type the source's URL to test the connection."
    assert not Source.objects.exists()


def test_a_url_without_secrets_is_shown_again(staff):
    response = staff.post("/sources/new/", {"name": "Bad Name", "url": "duckdb:///tmp/not-there.duckdb", "action": "save"})
    assert 'value="duckdb:///tmp/not-there.duckdb"' in body(response)


# Editing a source

def test_staff_edit_a_source_and_keep_its_url(staff, pg, source):
    form = body(staff.get("/sources/shop/edit/"))
    assert f"Now: {source.url_display}. Leave empty to keep it." in form
    assert 'value="The shop&#x27;s warehouse"' not in form and "The shop&#x27;s warehouse</textarea>" in form
    assert pg.password not in form
    response = staff.post("/sources/shop/edit/", {"url": "", "include_schemas": "sales", "exclude_schemas": "",
                                                  "description": "Just sales", "action": "save"})
    assert response.status_code == 302 and response["Location"] == "/sources/shop/"
    source.refresh_from_db()
    assert source.url.endswith(source.url_display.rsplit("/", 1)[1]) and pg.password in source.url
    assert source.include_schemas == ["sales"] and source.description == "Just sales"


def test_staff_replace_a_source_url_after_testing_it(staff, pg, source, warehouse):
    other = warehouse.url.replace(f"/{warehouse.name}", "/postgres")
    response = staff.post("/sources/shop/edit/", {"url": other, "include_schemas": "", "exclude_schemas": "",
                                                  "description": "", "action": "test"})
    (message,) = messages_of(response)
    assert message.startswith("Connection ok: ") and "database postgres" in message
    assert pg.password not in body(response)
    source.refresh_from_db()
    assert source.url == warehouse.url  # testing changes nothing
    staff.post("/sources/shop/edit/", {"url": "", "include_schemas": "", "exclude_schemas": "", "description": "", "action": "save"})
    source.refresh_from_db()
    assert source.url == other  # the URL typed and tested before


def test_editing_with_a_bad_url_keeps_the_stored_one(staff, pg, source):
    response = staff.post("/sources/shop/edit/", {"url": f"ftp://u:{pg.password}@h/x", "include_schemas": "", "exclude_schemas": "",
                                                  "description": "", "action": "save"})
    assert response.status_code == 200
    assert "Unknown URL scheme &#x27;ftp&#x27;" in body(response) and pg.password not in body(response)
    source.refresh_from_db()
    assert source.engine == "postgresql" and pg.password in source.url
    assert staff.get("/sources/nope/edit/").status_code == 404


def test_connector_options_on_the_add_and_edit_pages(staff, pg, source, tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "orders.csv").write_text("id,total\n1,9.5\n")
    response = staff.post("/sources/new/", {"name": "files", "url": f"file://{tmp_path}", "action": "save",
                                            "options": '{"path_templates": ["exports/{dataset}.csv"], "sample_files": 2}'})
    assert response.status_code == 302, body(response)
    lake = Source.objects.get(name="files")
    assert lake.options == {"path_templates": ["exports/{dataset}.csv"], "sample_files": 2}
    form = body(staff.get("/sources/files/edit/"))
    assert "&quot;path_templates&quot;: [" in form and "&quot;sample_files&quot;: 2" in form
    assert source_crawl(lake).datasets_added == 1, "the crawl reads the options saved from the page"
    assert '{&quot;path_templates&quot;: [&quot;exports/{dataset}.csv&quot;], &quot;sample_files&quot;: 2}' in body(staff.get("/sources/files/"))

    def edit(name, options):
        return staff.post(f"/sources/{name}/edit/", {"url": "", "include_schemas": "", "exclude_schemas": "", "description": "",
                                                     "options": options, "action": "save"})

    for options, message in [
        ('{"path_templates": [', "Not valid JSON"),
        ('["exports/{dataset}.csv"]', "Options are a JSON object"),
        ('{"path_tempaltes": ["x/{dataset}.csv"]}', "unknown option path_tempaltes"),
        ('{"sample_files": 0}', "option sample_files must be a whole number from 1 to 10000"),
    ]:
        response = edit("files", options)
        assert response.status_code == 200 and message in body(response), (options, body(response)[-3000:])
        assert Source.objects.get(name="files").options == lake.options, "a refused edit changes nothing"
    assert edit("files", '{"owner_tag": "team"}').status_code == 302
    assert Source.objects.get(name="files").options == {"owner_tag": "team"}
    assert edit("files", "").status_code == 302
    assert Source.objects.get(name="files").options == {}

    # A warehouse takes no options: said so, next to the box, and nothing changes.
    response = edit("shop", '{"path_templates": ["x"]}')
    assert response.status_code == 200 and "PostgreSQL sources take no options" in body(response)
    assert 'id="id_options_errors"' in body(response) and pg.password not in body(response)
    assert Source.objects.get(name="shop").options == {}


# Actions on the source page

def test_test_connection_from_the_source_page(staff, pg, source):
    response = staff.post("/sources/shop/test/", follow=True)
    assert response.redirect_chain == [("/sources/shop/", 302)]
    (message,) = messages_of(response)
    assert message.startswith("Connection ok: PostgreSQL ")
    assert pg.password not in body(response)
    assert staff.get("/sources/shop/test/").status_code == 405


def test_crawl_now_queues_a_crawl_and_the_page_follows_it(staff, pg, source, django_capture_on_commit_callbacks):
    from catalog.crawls.tasks import crawl_source_task

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff.post("/sources/shop/crawl/", follow=True)
    assert response.redirect_chain == [("/sources/shop/", 302)]
    assert len(callbacks) == 1, "the task is sent once the request's transaction commits"
    crawl = Crawl.objects.get()
    assert crawl.status == Crawl.QUEUED and crawl.trigger == "web"
    page = body(response)
    assert 'http-equiv="refresh"' in page and f"Crawl #{crawl.pk} queued" in page
    staff.post("/sources/shop/crawl/")
    assert Crawl.objects.count() == 1, "a second click while one is queued does not queue another"

    crawl_source_task.apply(args=[source.pk], kwargs={"crawl_id": crawl.pk})
    crawl.refresh_from_db()
    assert crawl.status == Crawl.SUCCEEDED and crawl.datasets_added == 7
    page = body(staff.get("/sources/shop/"))
    assert 'http-equiv="refresh"' not in page and "<td>ana</td>" in page, "who clicked"
    assert crawl.started_by.username == "ana"
    assert staff.get("/sources/shop/crawl/").status_code == 405
    assert staff.post("/sources/nope/crawl/").status_code == 404


def test_a_queued_crawl_that_fails_shows_its_error_without_secrets(staff):
    from catalog.crawls.tasks import crawl_source_task

    broken = source_create(name="broken", url=UNREACHABLE)
    staff.post("/sources/broken/crawl/")
    crawl = Crawl.objects.get()
    crawl_source_task.apply(args=[broken.pk], kwargs={"crawl_id": crawl.pk})
    crawl.refresh_from_db()
    assert crawl.status == Crawl.FAILED and "127.0.0.1:1" in crawl.error
    page = body(staff.get("/sources/broken/"))
    assert "Last crawl failed: could not connect to 127.0.0.1:1" in page
    assert "Unreachable-Secret-42" not in page


def test_schedule_form_sets_and_clears_the_schedule(staff, source):
    response = staff.post("/sources/shop/schedule/", {"every_minutes": "30", "action": "save"}, follow=True)
    assert "Schedule: every 30 minutes." in messages_of(response)
    source.refresh_from_db()
    assert (source.schedule.every_seconds, source.schedule.cron, source.schedule.enabled) == (1800, "", True)
    page = body(staff.get("/sources/shop/"))
    assert 'name="every_minutes" min="1" value="30"' in page and 'name="cron" value=""' in page  # the form shows it
    response = staff.post("/sources/shop/schedule/", {"cron": "not a cron", "action": "save"}, follow=True)
    assert any("cron" in m.lower() for m in messages_of(response))
    staff.post("/sources/shop/schedule/", {"cron": "15 3 * * 1-5", "action": "save"})
    page = body(staff.get("/sources/shop/"))
    assert "cron 15 3 * * 1-5" in page and 'name="cron" value="15 3 * * 1-5"' in page and 'name="every_minutes" min="1" value=""' in page
    assert 'value="off">No schedule' in page
    staff.post("/sources/shop/schedule/", {"action": "off"})
    assert not CrawlSchedule.objects.filter(source=source).exists()
    page = body(staff.get("/sources/shop/"))
    assert "not scheduled" in page and 'value="off">No schedule' not in page


def test_a_held_crawl_is_shown_and_confirmed_from_the_page(staff, source, shop):
    from catalog.crawls.services import source_crawl
    from catalog.crawls.tasks import crawl_source_task

    source_crawl(source)
    shop.execute("DROP SCHEMA sales CASCADE")
    held = source_crawl(source)
    assert held.status == Crawl.HELD
    page = body(staff.get("/sources/shop/"))
    assert f"Crawl #{held.pk} was held" in page and "sales.customers" in page and "apply the removals" in page
    staff.post("/sources/shop/confirm-removal/")
    confirmation = Crawl.objects.filter(status=Crawl.QUEUED).get()
    assert confirmation.allow_mass_removal
    crawl_source_task.apply(args=[source.pk], kwargs={"crawl_id": confirmation.pk})
    confirmation.refresh_from_db()
    # the four sales tables, and the two analytics views that CASCADE took with them
    assert confirmation.status == Crawl.SUCCEEDED and confirmation.datasets_removed == 6
