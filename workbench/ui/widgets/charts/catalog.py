"""What the curves can show: the recorded series and the small plots (charts) they are drawn in.

The store records, per step, `loss`, `lr`, `grad_norm`, `tokens_per_s` and `memory_mb`
(`core/project/run_records.py` STEP_METRICS) and, per evaluation, `val_loss`, `val_ppl` and
`train_loss`. Train and validation loss share one chart so they can be compared at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeriesDef:
    key: str  # the metric's name in the store
    label: str  # what the window calls it
    chart: str  # the chart it is drawn in
    sparse: bool = False  # one point per evaluation: drawn with dots, never smoothed


@dataclass(frozen=True)
class ChartDef:
    key: str
    title: str  # also the y axis label
    log_y: bool = False  # the default; the user can change it


SERIES: tuple[SeriesDef, ...] = (
    SeriesDef("loss", "train loss", "loss"),
    SeriesDef("val_loss", "validation loss", "loss", sparse=True),
    SeriesDef("val_ppl", "perplexity", "ppl", sparse=True),
    SeriesDef("lr", "learning rate", "lr"),
    SeriesDef("grad_norm", "gradient norm", "grad_norm"),
    SeriesDef("tokens_per_s", "tokens/s", "tokens_per_s"),
    SeriesDef("memory_mb", "memory (MB)", "memory_mb"),
)
SERIES_BY_KEY = {s.key: s for s in SERIES}

CHARTS: tuple[ChartDef, ...] = (
    ChartDef("loss", "loss"),
    ChartDef("ppl", "perplexity", log_y=True),
    ChartDef("lr", "learning rate"),
    ChartDef("grad_norm", "gradient norm"),
    ChartDef("tokens_per_s", "tokens/s"),
    ChartDef("memory_mb", "memory (MB)"),
)
CHARTS_BY_KEY = {c.key: c for c in CHARTS}

DEFAULT_SHOWN = ("loss", "val_loss", "lr", "grad_norm")


def charts_for(shown: set[str] | frozenset[str]) -> list[ChartDef]:
    """The charts that hold at least one of the `shown` series, in catalogue order."""
    wanted = {SERIES_BY_KEY[k].chart for k in shown if k in SERIES_BY_KEY}
    return [c for c in CHARTS if c.key in wanted]
