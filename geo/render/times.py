"""Times shown to people in the city's own zone (``config.toml``'s ``[city] timezone``); the store keeps UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from geo.i18n import column_label, text


def zone_name(zone: str, lang: str = "zh") -> str:
    """How ``zone`` (an IANA name) is said in a header: 北京时间 / Beijing time, else ``UTC+8``-style offsets
    (the offset in force now)."""
    if zone in ("Asia/Shanghai", "PRC"):
        return text("timezone_beijing", lang)
    offset = datetime.now(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_times(values, zone: str) -> pd.Series:
    """``values`` (datetimes or ISO texts; naive ones are UTC, as the store keeps them) as naive wall-clock
    times in ``zone``; missing stays missing (NaT)."""
    series = pd.Series(values)
    stamps = pd.to_datetime(series, utc=True, errors="coerce", format="mixed")
    return stamps.dt.tz_convert(ZoneInfo(zone)).dt.tz_localize(None)


def local_time_text(values, zone: str) -> pd.Series:
    """Like :func:`local_times`, written ``2026-11-30 12:07:05`` (an empty text where missing)."""
    return local_times(values, zone).dt.strftime("%Y-%m-%d %H:%M:%S").fillna("").astype(str)


def local_header(column: str, zone: str, lang: str = "zh") -> str:
    """The header of the time column ``column`` with its zone said: ``时间（UTC）`` → ``时间（北京时间）``."""
    return column_label(column, lang).replace("UTC", zone_name(zone, lang))


def with_local_times(frame: pd.DataFrame, columns, zone: str, lang: str = "zh") -> pd.DataFrame:
    """A copy of ``frame`` whose time ``columns`` (those present) are wall-clock texts in ``zone`` under headers
    that say the zone; the other columns keep their internal names (label them after)."""
    shown = frame.copy()
    renamed = {}
    for column in columns:
        if column in shown.columns:
            shown[column] = local_time_text(shown[column], zone).to_numpy()
            renamed[column] = local_header(column, zone, lang)
    return shown.rename(columns=renamed)
