from django import forms

from catalog.sources.models import Source


class SourceForm(forms.Form):
    name = forms.SlugField(max_length=100, help_text="Lower-case letters, digits, '-' and '_'.")
    url = forms.CharField(
        max_length=2000,
        label="URL",
        widget=forms.TextInput(attrs={"placeholder": "postgresql://user:password@host:5432/database", "autocomplete": "off", "spellcheck": "false"}),
        help_text="The password is encrypted at rest and never shown again.",
    )
    include_schemas = forms.CharField(required=False, label="Include schemas", help_text="Glob patterns, comma-separated (e.g. sales, mart_*). Empty: all.")
    exclude_schemas = forms.CharField(required=False, label="Exclude schemas", help_text="Glob patterns, comma-separated.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SourceEditForm(SourceForm):
    """Editing keeps the stored URL unless a new one is typed."""

    def __init__(self, *args, source: Source, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["name"]
        self.fields["url"].required = False
        self.fields["url"].help_text = f"Now: {source.url_display}. Leave empty to keep it."
