"""Names, queries, similarity and highlighting: pure functions, no database."""

import pytest

from catalog.search.text import highlight, name_key, name_words, parse_query, plain, similarity, snippet, split_words


@pytest.mark.parametrize("name, words", [
    ("order_items", ["order", "items"]),
    ("OrderItems", ["order", "items"]),
    ("orderItems", ["order", "items"]),
    ("ORDER-ITEMS", ["order", "items"]),
    ("Order Lines", ["order", "lines"]),
    ("HTTPServerLog", ["http", "server", "log"]),
    ("events_2024", ["events", "2024"]),
    ("sha256sum", ["sha", "256", "sum"]),
    ("__weird__name__", ["weird", "name"]),
    ("Größe_Gesamt", ["größe", "gesamt"]),
    ("", []),
])
def test_names_split_into_words_at_every_change_of_style(name, words):
    assert split_words(name) == words


def test_the_key_joins_the_words_so_every_style_meets():
    assert {name_key(n) for n in ("order_items", "OrderItems", "orderitems", "order items", "Order-Items")} == {"orderitems"}
    assert name_words("order_items") == "order items orderitems"
    assert name_words("orders") == "orders"


def test_a_dotted_query_qualifies_its_last_part():
    parsed = parse_query("sales.OrderItems")
    assert (parsed.key, parsed.qualifier, parsed.name_words) == ("orderitems", "sales.orderitems", ["order", "items"])
    assert parsed.identifier
    assert parse_query("3.5 apples").qualifier == ""  # a number is not a path
    assert not parse_query("order items").identifier and not parse_query("orders").identifier
    assert parse_query("  \x00 ").empty and parse_query("?!").empty
    assert len(parse_query("x" * 5000).key) == 200


def test_similarity_is_pg_trgm_s():
    assert similarity("custmer", "customers") == pytest.approx(5 / 13)
    assert similarity("customer", "customer") == 1.0
    assert similarity("abc", "") == 0.0


def test_highlight_escapes_everything_then_marks_word_starts():
    assert highlight("orders & <b>order_lines</b>", ["order"]) == \
        "<mark>order</mark>s &amp; &lt;b&gt;<mark>order</mark>_lines&lt;/b&gt;"
    assert highlight("reorder", ["order"]) == "reorder"  # not the start of a word
    assert highlight("bigOrders", ["order"]) == "big<mark>Order</mark>s"  # a camelCase step is
    # Marks go around text, never inside the entity escaping made: "&" becomes "&amp;" whole.
    assert highlight("amp & amp", ["amp"]) == "<mark>amp</mark> &amp; <mark>amp</mark>"
    assert highlight("AT&T", ["t"]) == "AT&amp;<mark>T</mark>"
    assert highlight("<script>", ["script"]) == "&lt;<mark>script</mark>&gt;"
    assert highlight("sales.customers", [], whole="customers") == "sales.<mark>customers</mark>"


def test_snippets_are_plain_text_around_the_first_match():
    text = "Intro words. " * 20 + "The **refund** rules apply here." + " Trailing words." * 20
    found = snippet([text], ["refund"], width=80)
    assert found.startswith("… ") and found.endswith(" …") and "refund rules" in found and "**" not in found
    assert snippet(["", "Columns: iban_hash, amount."], ["iban"]) == "Columns: iban_hash, amount."
    assert snippet(["Nothing here"], ["zzz"]) == "Nothing here"
    assert plain("# Title\n> quote [link](http://x) `code` snake__case <b>") == "Title quote link code snake__case <b>"
