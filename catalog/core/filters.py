"""Query-string filters the API shares: numbers are checked as the database will take them, so bad input is a 400.

django-filter's NumberFilter reads a Decimal: `?dataset=1e30` passed the filter and reached the database
as a number no id column holds (a 500 on PostgreSQL). An id is a whole number from 1 to 2^63-1.
"""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An object's id: anything but a whole number from 1 to 2^63-1 is refused with a message (400)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
