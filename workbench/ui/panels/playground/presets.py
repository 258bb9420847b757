"""Sampler presets: the built-in greedy, balanced and creative, and the user's own, saved in the
settings INI (`ui/settings.py`) so they follow the user from project to project.

A preset sets how the next token is chosen (temperature, top-k, top-p, min-p, repetition penalty)
and leaves the rest alone: choosing "greedy" keeps the token count, stop strings, samples and seed
the user typed. Every value a preset does not name is `SampleSpec`'s default, the one the command
line uses too, so there is a single set of defaults.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any

from workbench.core.base.specs import SampleSpec
from workbench.ui.settings import app_settings

PRESET_FIELDS = ("temperature", "top_k", "top_p", "min_p", "repetition_penalty")
PRESETS_KEY = "playground/presets"


def _knobs(spec: SampleSpec) -> dict[str, Any]:
    values = asdict(spec)
    return {name: values[name] for name in PRESET_FIELDS}


# Why these: default is the command line's; greedy is what "temperature 0" means everywhere; balanced is the common
# temperature 0.8 / top-k 40 / top-p 0.95 of GPT-2 era samplers; creative raises the temperature
# and lets min-p (rather than a fixed k) drop the tail, which keeps a hot sampler readable.
BUILT_IN: dict[str, dict[str, Any]] = {
    "default": _knobs(SampleSpec()),  # plain sampling, as `workbench generate` does without flags
    "greedy": _knobs(replace(SampleSpec(), temperature=0.0)),
    "balanced": _knobs(replace(SampleSpec(), temperature=0.8, top_k=40, top_p=0.95)),
    "creative": _knobs(replace(SampleSpec(), temperature=1.2, min_p=0.05)),
}


def user_presets() -> dict[str, dict[str, Any]]:
    """The user's saved presets by name (an unreadable entry is skipped, not fatal)."""
    raw = app_settings().value(PRESETS_KEY, "")
    try:
        stored = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {}
    if not isinstance(stored, dict):
        return {}
    defaults = _knobs(SampleSpec())
    return {str(name): {k: type(defaults[k])(values.get(k, defaults[k])) for k in PRESET_FIELDS}
            for name, values in stored.items() if isinstance(values, dict)}


def _write(presets: dict[str, dict[str, Any]]) -> None:
    settings = app_settings()
    settings.setValue(PRESETS_KEY, json.dumps(presets))  # JSON: INI files flatten nested values
    settings.sync()


def save_preset(name: str, spec: SampleSpec) -> str:
    """Save `spec`'s knobs under `name`; returns "" or why not (a built-in name is taken)."""
    name = name.strip()
    if not name:
        return "Give the preset a name."
    if name.lower() in BUILT_IN:
        return f"{name!r} is a built-in preset; choose another name."
    presets = user_presets()
    presets[name] = _knobs(spec)
    _write(presets)
    return ""


def delete_preset(name: str) -> None:
    presets = user_presets()
    if presets.pop(name, None) is not None:
        _write(presets)


def all_presets() -> dict[str, dict[str, Any]]:
    """Built-in first, then the user's in the order saved."""
    return {**BUILT_IN, **user_presets()}


def matching_preset(spec: SampleSpec) -> str:
    """The name of the preset whose knobs `spec` has ("" when none does)."""
    knobs = _knobs(spec)
    return next((name for name, values in all_presets().items() if values == knobs), "")
