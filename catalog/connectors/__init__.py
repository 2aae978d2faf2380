"""Connectors read metadata from one kind of system. Django-free.

Each connector answers for its URL schemes (registry.CONNECTORS, imported only when asked) and
yields plain dataclasses; the crawl service decides what to do with them.
"""

from catalog.connectors.base import (  # noqa: F401
    ColumnMeta,
    Connector,
    ConnectorError,
    DatasetMeta,
    ExtractRequest,
    Extraction,
)
from catalog.connectors.registry import connector_for  # noqa: F401
