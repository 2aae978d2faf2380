import json

from django import forms

from catalog.core.sourceurl import InvalidSourceURL, parse_source_url
from catalog.sources.models import Source


class SecretURLInput(forms.TextInput):
    """A URL box that never sends a password back to the browser.

    A URL without secrets is shown again as typed (a typo is easy to fix); one with a
    password or a secret parameter, or one that cannot be read at all, is left empty.
    """

    def format_value(self, value):
        if not value:
            return None
        try:
            if parse_source_url(value).secrets():
                return None
        except InvalidSourceURL:
            return None
        return super().format_value(value)


class SourceForm(forms.Form):
    name = forms.SlugField(max_length=100, help_text="Lower-case letters, digits, '-' and '_'.",
                           error_messages={"invalid": "A name is lower-case letters, digits, '-' and '_' (no spaces), e.g. sales-warehouse."})
    url = forms.CharField(
        max_length=2000,
        label="URL",
        widget=SecretURLInput(attrs={"placeholder": "postgresql://user:password@host:5432/database", "autocomplete": "off", "spellcheck": "false"}),
        help_text="The password is encrypted at rest and never shown again.",
    )
    include_schemas = forms.CharField(required=False, label="Include schemas", help_text="Glob patterns, comma-separated (e.g. sales, mart_*). Empty: all.")
    exclude_schemas = forms.CharField(required=False, label="Exclude schemas", help_text="Glob patterns, comma-separated.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    options = forms.CharField(
        required=False,
        label="Connector options",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "code"}),
        help_text='JSON, for S3 and folder sources: e.g. {"path_templates": ["{dataset}/dt={dt}/*.parquet"], "owner_tag": "team"}. Empty: none.',
    )

    def __init__(self, *args, remembered_url_display: str = "", **kwargs):
        """remembered_url_display: the masked form of a URL typed earlier in this form, which the
        view keeps (encrypted) so that the password need not be typed twice."""
        super().__init__(*args, **kwargs)
        self.remembered_url_display = remembered_url_display
        if remembered_url_display:
            self.fields["url"].required = False
            self.fields["url"].help_text = f"Leave empty to use {remembered_url_display}, as typed before (its password is kept, not shown)."


    def clean_options(self) -> dict:
        text = self.cleaned_data.get("options", "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}.") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("Options are a JSON object: {\"name\": value, ...}.")
        return value


def options_text(options: dict) -> str:
    """A source's options as the form shows them."""
    return json.dumps(options, indent=2, ensure_ascii=False) if options else ""


class SourceEditForm(SourceForm):
    """Editing keeps the stored URL unless a new one is typed."""

    def __init__(self, *args, source: Source, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["name"]
        self.fields["url"].required = False
        if not self.remembered_url_display:
            self.fields["url"].help_text = f"Now: {source.url_display}. Leave empty to keep it."
