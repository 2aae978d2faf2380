"""What apps above inventory add to a dataset, registered in their AppConfig.ready() so that
inventory imports none of them. Dotted paths, imported only when used, so that starting a
process imports nothing more.

- register_dataset_detail_field: a field of the dataset detail in the API (lineage adds
  "lineage"), a read-only serializer field class whose instances take the whole dataset.
"""

_dataset_detail_fields: dict[str, str] = {}


def register_dataset_detail_field(name: str, dotted_path: str) -> None:
    _dataset_detail_fields[name] = dotted_path


def dataset_detail_fields() -> dict[str, str]:
    """{field name: dotted path}, in the order registered."""
    return dict(_dataset_detail_fields)
