"""Export the curves: the view as PNG or SVG (pyqtgraph's exporters, the whole grid in one picture)
and the data as CSV (every shown series of every run, full resolution, with the smoothed value)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator

from workbench.ui.widgets.charts.catalog import SERIES

if TYPE_CHECKING:
    from workbench.ui.widgets.charts.grid import CurveGrid

CSV_COLUMNS = ("run", "series", "step", "value", "smoothed", "wall")


class ExportError(Exception):
    """A plain-text reason the export could not be written."""


def export_view(grid: CurveGrid, path: Path) -> None:
    """The grid as it is on screen: PNG, or SVG when `path` ends in .svg."""
    _check_writable(path)
    grid.flush()
    try:
        if path.suffix.lower() == ".svg":
            _write_svg(grid, path)
        else:
            ImageExporter(grid.scene()).export(str(path))
    except OSError as exc:
        raise ExportError(f"Could not write {path}: {exc.strerror or exc}") from exc
    if path.stat().st_size == 0:  # QImage.save reports failure only by returning False, which the exporter drops
        path.unlink(missing_ok=True)
        raise ExportError(f"Could not write {path}: the picture could not be saved there.")


def export_csv(grid: CurveGrid, path: Path) -> int:
    """Write the data; returns the number of data rows."""
    _check_writable(path)
    rows = 0
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for run in grid.runs.values():
                for spec in SERIES:
                    if spec.key not in grid.shown:
                        continue
                    s = run.series[spec.key]
                    smoothed = s.values if spec.sparse else s.smooth(grid.weight)
                    for step, value, smooth, wall in zip(s.steps, s.values, smoothed, s.walls, strict=True):
                        writer.writerow((run.name, spec.key, int(step), repr(float(value)), repr(float(smooth)),
                                         "" if np.isnan(wall) else repr(float(wall))))
                    rows += s.n
    except OSError as exc:
        raise ExportError(f"Could not write {path}: {exc.strerror or exc}") from exc
    return rows


def _check_writable(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(f"Could not write {path}: the folder {folder} does not exist.")
    try:
        with path.open("ab"):
            pass
    except OSError as exc:
        raise ExportError(f"Could not write {path}: {exc.strerror or exc}. Choose a folder you can write to.") from exc


def _write_svg(grid: CurveGrid, path: Path) -> None:
    """The scene through Qt's SVG generator. (pyqtgraph's SVGExporter post-processes Qt's output and
    fails on the path syntax of Qt 6: "ValueError: not enough values to unpack" in SVGExporter.py.)"""
    rect = grid.scene().sceneRect()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(int(rect.width()), int(rect.height())))
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    generator.setTitle("Training curves")
    painter = QPainter(generator)
    try:
        grid.scene().render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    finally:
        painter.end()
