"""Markdown written by people, rendered to HTML that is safe to show."""

import markdown as md
import nh3
from django.utils.safestring import mark_safe

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}


def render_markdown(text: str) -> str:
    if not text:
        return ""
    html = md.markdown(text, extensions=["fenced_code", "tables", "sane_lists"])
    return mark_safe(
        nh3.clean(html, tags=_TAGS, attributes={"a": {"href", "title"}, "abbr": {"title"}},
                  url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")
    )
