"""Connectors read metadata from one kind of system. Django-free.

Each connector is registered by URL scheme and yields plain dataclasses; the
crawl service decides what to do with them.
"""

from catalog.connectors.base import (  # noqa: F401
    ColumnMeta,
    Connector,
    ConnectorError,
    DatasetMeta,
    Extraction,
)
from catalog.connectors.registry import connector_for, known_schemes, register  # noqa: F401
