"""Paths of the shared test data beside the checkout (`../shared/data`); tests skip where it is absent."""

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
SHAKESPEARE = SHARED_DATA / "tinyshakespeare.txt"
