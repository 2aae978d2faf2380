"""What storing a dataset costs a month: the one place storage prices are read, for every page that prices storage
(duplicates' copies, the Unused page).

Prices are USD per GB-month (GB = 2**30 bytes) by engine, the source URL's scheme, from settings.CANON_STORAGE_PRICES
("default" for engines it does not name). An app where people set prices themselves (duplicates' admin, *Storage
prices*) registers them with ``@storage_price_overrides``; they win over the setting for their engines.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable, Mapping

from django.conf import settings

GB = Decimal(1024 ** 3)
CENT = Decimal("0.01")

_overrides: list[Callable[[], Mapping[str, Decimal]]] = []


def storage_price_overrides(read: Callable[[], Mapping[str, Decimal]]):
    """Register a reader of prices people set ({engine: USD per GB-month}); usable as a decorator."""
    if read not in _overrides:
        _overrides.append(read)
    return read


def storage_prices() -> dict[str, Decimal]:
    """USD per GB-month by engine: the setting, then what people set."""
    prices = {engine.lower(): Decimal(str(price)) for engine, price in settings.CANON_STORAGE_PRICES.items()}
    for read in _overrides:
        prices.update({engine.lower(): Decimal(str(price)) for engine, price in read().items()})
    return prices


def monthly_cost(size_bytes: int | None, engine: str, prices: Mapping[str, Decimal] | None = None) -> Decimal | None:
    """What storing these bytes costs a month on this engine (USD, to the cent); None when the size is not known.
    Pass `prices` (storage_prices()) when pricing many datasets, so they are read once."""
    if size_bytes is None:
        return None
    if prices is None:
        prices = storage_prices()
    price = prices.get((engine or "").lower(), prices.get("default", Decimal("0")))
    return (Decimal(size_bytes) / GB * price).quantize(CENT)
