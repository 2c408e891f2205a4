"""Timestamps of exports → UTC day and half-hour slot, vectorised, with a reason for each unreadable value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricing.rates import SLOT_MINUTES

# `2026-06-28 03:46:57.713`, `2026-06-28T03:46:57Z`: UTC wall time that can be sliced directly.
_PLAIN_UTC = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?$"


def day_and_slot_from_text(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UTC day (YYYY-MM-DD), half-hour slot (0..47) and a reason ("" when fine) per timestamp text."""
    text = values.astype(str).str.strip()
    n = len(text)
    reasons = np.full(n, "", dtype=object)
    if n and bool(text.str.fullmatch(_PLAIN_UTC).all()):
        days = text.str.slice(0, 10)
        minutes = text.str.slice(11, 13).astype(int) * 60 + text.str.slice(14, 16).astype(int)
        stamps = pd.to_datetime(days, format="%Y-%m-%d", errors="coerce")
        bad = stamps.isna().to_numpy() | (minutes >= 24 * 60).to_numpy()
        reasons[bad] = "unreadable timestamp"
        return days.to_numpy(dtype=object), (minutes // SLOT_MINUTES).to_numpy(dtype=np.int64), reasons
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    bad = parsed.isna().to_numpy()
    reasons[bad] = [f"'{v[:40]}' is not a timestamp" for v in text.to_numpy()[bad]]
    day_values = parsed.dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object)
    minute_values = (parsed.dt.hour * 60 + parsed.dt.minute).fillna(0).astype(np.int64)
    return day_values, (minute_values // SLOT_MINUTES).to_numpy(dtype=np.int64), reasons


def day_from_unix_seconds(seconds: np.ndarray) -> np.ndarray:
    """YYYY-MM-DD of Unix timestamps (UTC)."""
    return pd.to_datetime(seconds, unit="s", utc=True).strftime("%Y-%m-%d").to_numpy(dtype=object)


def slot_from_unix_seconds(seconds: np.ndarray) -> np.ndarray:
    return ((seconds % 86400) // (SLOT_MINUTES * 60)).astype(np.int64)
