"""The register/edit form. It only collects and shows fields: the service validates (one set of rules for pages and API)."""

from django import forms

from catalog.metrics.dialects import DIALECTS
from catalog.metrics.models import MetricDefinition


class MetricForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Lower-case letters, digits and underscores: weekly_active_users",
                           widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    title = forms.CharField(max_length=200, required=False, help_text="How people say it: Weekly active users")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}), help_text="Markdown: what it counts and why")
    sql = forms.CharField(label="SQL", widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}),
                          help_text="One query that computes the metric")
    dialect = forms.ChoiceField(choices=DIALECTS)
    source = forms.ChoiceField(required=False, help_text="The warehouse it runs on (names are looked up there)")
    time_dimension = forms.CharField(required=False, max_length=255, help_text="The column time is measured by")
    grain = forms.ChoiceField(choices=MetricDefinition.GRAIN_CHOICES, required=False)
    unit = forms.CharField(required=False, max_length=50, help_text="customers, EUR, %")
    format = forms.ChoiceField(choices=MetricDefinition.FORMAT_CHOICES, initial="number")
    owners = forms.CharField(required=False, help_text="Usernames, comma-separated (you, if empty)")
    tags = forms.CharField(required=False, help_text="Comma-separated")
    synonyms = forms.CharField(required=False, help_text="Other names people use for it, comma-separated")
    message = forms.CharField(required=False, max_length=500, label="What changed", help_text="Kept with the version")
    force = forms.BooleanField(required=False, label="Save anyway: it is not the same as the definitions listed")
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why it is needed",
                             help_text="Kept with the version, for whoever wonders later")

    def __init__(self, *args, sources=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "any source")] + [(s.name, s.name) for s in sources]

    def service_data(self) -> dict:
        """The fields as metric_register / metric_update take them."""
        data = self.data
        keys = ["name", "title", "description", "sql", "dialect", "source", "time_dimension", "grain", "unit", "format", "owners",
                "tags", "synonyms"]
        return {key: data.get(key, "") for key in keys if key in data}

    def apply_errors(self, errors: dict) -> None:
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


def initial_for(definition: MetricDefinition) -> dict:
    return {
        "name": definition.name, "title": definition.title, "description": definition.description, "sql": definition.sql,
        "dialect": definition.dialect, "source": definition.source.name if definition.source else "",
        "time_dimension": definition.time_dimension, "grain": definition.grain, "unit": definition.unit, "format": definition.format,
        "owners": ", ".join(u.get_username() for u in definition.owners.all()),
        "tags": ", ".join(t.name for t in definition.tags.all()), "synonyms": ", ".join(s.name for s in definition.synonyms.all()),
    }
