"""Every recorded metric series of a run as one table: a `step` column plus one column per series.

    names, rows = metric_table(store, run_id)            # ["step", "loss", "val_loss", ...], [[1, 2.3, None, ...], ...]
    columns, count = write_metrics_csv(store, run_id, Path("run.csv"))  # count: data rows written

Series that are recorded only at evaluations (val_loss, val_ppl, train_loss) leave the other
steps' cells empty. The file is written under a temporary name beside the target and renamed into
place, so a failed export leaves no half-written file and an existing file either stays whole or is
replaced whole. `write_metrics_csv` raises a `WorkbenchError` that says what to do when the
folder is missing or cannot be written.
"""

from __future__ import annotations

import csv
import os
import tempfile
from contextlib import suppress
from pathlib import Path

from workbench.core.base.disk import disk_full_error, is_disk_full
from workbench.core.base.errors import WorkbenchError
from workbench.core.project.store import ProjectStore

# The usual series first, in the order people read them; any other recorded series follows by name.
SERIES_ORDER = ("loss", "val_loss", "train_loss", "val_ppl", "lr", "grad_norm", "tokens_per_s", "memory_mb")


def metric_table(store: ProjectStore, run_id: int) -> tuple[list[str], list[list[float | None]]]:
    """(column names, rows by step): the first column is the step, then one column per series."""
    run = store.get_run(run_id)
    by_step: dict[int, dict[str, float]] = {}
    names: set[str] = set()
    # ordered by id: a value recorded twice at one step (not normally possible) reads as the later one
    for step, name, value in store.execute("SELECT step, name, value FROM metrics WHERE run_id = ? ORDER BY id",
                                           (run["id"],)):
        by_step.setdefault(int(step), {})[name] = value
        names.add(name)
    series = [n for n in SERIES_ORDER if n in names] + sorted(names - set(SERIES_ORDER))
    rows = [[step, *(values.get(n) for n in series)] for step, values in sorted(by_step.items())]
    return ["step", *series], rows


def write_metrics_csv(store: ProjectStore, run_id: int, path: str | Path) -> tuple[list[str], int]:
    """Write run `run_id`'s metrics to the CSV file `path`; returns (column names, number of data rows)."""
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise WorkbenchError(f"{target} is a folder; give the name of a CSV file to write, e.g. {target / 'metrics.csv'}")
    if not target.parent.is_dir():
        raise WorkbenchError(f"cannot write {target}: the folder {target.parent} does not exist; "
                             "create it first or choose another place")
    header, rows = metric_table(store, run_id)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(["" if v is None else v for v in row] for row in rows)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(f"the CSV export {target.name}", target.parent) from exc
        reason = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
        raise WorkbenchError(f"cannot write {target}: {reason}; choose a folder you can write to") from exc
    finally:
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)
    return header, len(rows)

