from __future__ import annotations

from catalog.connectors.base import Connector, ConnectorError
from catalog.core.sourceurl import InvalidSourceURL, SourceURL, parse_source_url

_REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make a connector answer for its URL schemes."""
    for scheme in cls.schemes:
        _REGISTRY[scheme] = cls
    return cls


def _load_builtin() -> None:
    # Imported for their @register side effect.
    from catalog.connectors import lake, postgres, sqlite  # noqa: F401

    for optional in ("duckdb", "mysql", "snowflake", "bigquery", "redshift"):
        try:
            __import__(f"catalog.connectors.{optional}")
        except ImportError:
            pass


def known_schemes() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def connector_for(url: str | SourceURL, **options) -> Connector:
    """The connector for a URL. Raises InvalidSourceURL for a URL nothing can read."""
    _load_builtin()
    parsed = url if isinstance(url, SourceURL) else parse_source_url(url)
    cls = _REGISTRY.get(parsed.scheme)
    if cls is None:
        raise InvalidSourceURL(
            f"Unknown URL scheme '{parsed.scheme}'. Canon reads: {', '.join(sorted(_REGISTRY))}."
        )
    return cls(parsed, **options)


__all__ = ["register", "connector_for", "known_schemes", "ConnectorError"]
