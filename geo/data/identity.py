"""A city file's identity: the city's and the bureau's names, and whether its data are synthetic.

Stored in the city GeoPackage as the attribute table ``city`` (columns ``key`` and ``value``,
one row per item of :data:`IDENTITY_KEYS`), so that a city file names itself: the pages and the
public notice take these names over ``config.toml``'s ``[city]`` table, and say "synthetic data"
only for a file whose ``synthetic`` is ``true`` (the bundled sample).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from geo.i18n import label

IDENTITY_LAYER = "city"
IDENTITY_KEYS = ("name_zh", "name_en", "bureau_zh", "bureau_en", "synthetic", "contact_zh", "contact_en")


@dataclass(frozen=True)
class CityIdentity:
    """Names of a city and its bureau in Chinese and English (empty = not given), and ``synthetic``."""

    name_zh: str = ""
    name_en: str = ""
    bureau_zh: str = ""
    bureau_en: str = ""
    synthetic: bool = False
    contact_zh: tuple[str, ...] = ()  # the notice's feedback lines
    contact_en: tuple[str, ...] = ()

    def table(self) -> pd.DataFrame:
        """The identity as the ``city`` attribute table (``key``, ``value``: text)."""
        values = [self.name_zh, self.name_en, self.bureau_zh, self.bureau_en, "true" if self.synthetic else "false"]
        values += ["\n".join(self.contact_zh), "\n".join(self.contact_en)]
        return pd.DataFrame({"key": list(IDENTITY_KEYS), "value": values}, dtype="string")

    @classmethod
    def from_table(cls, table: pd.DataFrame | None) -> CityIdentity:
        """The identity stored in a ``city`` table; unknown keys ignored, missing ones empty."""
        if table is None or not {"key", "value"} <= set(table.columns):
            return cls()
        pairs = {str(k).strip(): ("" if pd.isna(v) else str(v).strip()) for k, v in zip(table["key"], table["value"])}
        return cls(
            name_zh=pairs.get("name_zh", ""),
            name_en=pairs.get("name_en", ""),
            bureau_zh=pairs.get("bureau_zh", ""),
            bureau_en=pairs.get("bureau_en", ""),
            synthetic=pairs.get("synthetic", "").lower() == "true",
            contact_zh=tuple(line for line in pairs.get("contact_zh", "").splitlines() if line.strip()),
            contact_en=tuple(line for line in pairs.get("contact_en", "").splitlines() if line.strip()),
        )


def identity_of(other_layers: dict) -> CityIdentity:
    """The identity of a city read by :func:`geo.pipeline.load_city` (its ``other_layers``)."""
    return CityIdentity.from_table(other_layers.get(IDENTITY_LAYER))


def config_for_city(config, identity: CityIdentity):
    """``config`` with the city's and the bureau's names of ``identity`` where it gives them.

    A name the file leaves empty keeps ``config.toml``'s; an English name missing in both falls
    back to the Chinese one, so no page is left with an empty name.
    """
    names = {
        "city_name_zh": identity.name_zh or config.city_name_zh,
        "city_name_en": identity.name_en or config.city_name_en,
        "bureau_name_zh": identity.bureau_zh or config.bureau_name_zh,
        "bureau_name_en": identity.bureau_en or config.bureau_name_en,
        "contact_zh": identity.contact_zh or config.contact_zh,
        "contact_en": identity.contact_en or identity.contact_zh or config.contact_en,
    }
    if identity.name_zh and not identity.name_en:
        names["city_name_en"] = identity.name_zh
    if identity.name_zh and not identity.bureau_zh:  # a new city's bureau: "<city>体育局"
        names["bureau_name_zh"] = label("message", "bureau_of_city", "zh", city=identity.name_zh)
        names["bureau_name_en"] = identity.bureau_en or label(
            "message", "bureau_of_city", "en", city=names["city_name_en"]
        )
    return replace(config, **names)
