"""The price table (`docgen/prices.toml`): the one place a price lives in this repository."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PRICE_FILE = Path(__file__).with_name("prices.toml")
REQUIRED = ("unit", "source", "checked", "confirmed")


@dataclass(frozen=True)
class Price:
    key: str
    usd: float
    unit: str
    source: str
    checked: str
    confirmed: str


class PriceTable:
    def __init__(self, data: dict):
        self.meta = data["meta"]
        self._entries = {k: v for k, v in data.items() if k != "meta"}

    @property
    def hours_per_month(self) -> float:
        return float(self.meta["hours_per_month"])

    @property
    def region(self) -> str:
        return self.meta["region"]

    def entry(self, key: str) -> dict:
        try:
            return self._entries[key]
        except KeyError:
            raise KeyError(f"no entry [{key}] in {PRICE_FILE.name}") from None

    def __call__(self, key: str, variant: str | None = None) -> Price:
        """The price `key` (e.g. "nat_gateway_hour"), or one variant of a table of prices
        (e.g. ("ec2_instance_hour", "t4g.micro")): a missing one names the entry to add."""
        entry = self.entry(key)
        if variant is None:
            usd = entry.get("usd", entry.get("fraction"))
            if usd is None:
                raise KeyError(f"[{key}] in {PRICE_FILE.name} is a table: name a variant")
        else:
            (table,) = [v for v in entry.values() if isinstance(v, dict)]
            if variant not in table:
                raise KeyError(
                    f"no price for {variant!r} in [{key}] of docgen/{PRICE_FILE.name} "
                    f"(has: {', '.join(table)}): add it with its source and the date checked"
                )
            usd = table[variant]
        return Price(
            key=key if variant is None else f"{key}.{variant}",
            usd=float(usd),
            **{field: entry[field] for field in REQUIRED},
        )

    def entries(self) -> dict[str, dict]:
        return dict(self._entries)


@cache
def prices() -> PriceTable:
    return PriceTable(tomllib.loads(PRICE_FILE.read_text()))
