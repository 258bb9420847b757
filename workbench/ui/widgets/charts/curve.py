"""A curve item that draws a long series from its min/max pyramid: about two points per pixel.

pyqtgraph's own clip-to-view and peak downsampling rework the whole visible slice on every view
change (a zoom to 10k of 1M points drew 10k points per curve, about 100 ms for the grid). This item
keeps the full-resolution data as its dataset (`getOriginalDataset`, exports and the hover read
it) and replaces only what is displayed: `pyramid.visible_indices` for the visible x range and the
plot's width in pixels. Short series, and x that is not sorted and finite, keep pyqtgraph's path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.PlotDataItem import PlotDataset

from workbench.ui.widgets.charts.pyramid import MinMaxPyramid, pixel_edges, visible_indices

DECIMATE_MIN = 5_000  # below this many points pyqtgraph's own path is as fast


class DecimatedCurve(pg.PlotDataItem):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # set before pyqtgraph's __init__, which may already ask for the display dataset
        self.pyramid: MinMaxPyramid | None = None
        self._sorted = False
        self._shown_for: tuple[Any, ...] | None = None  # (x0, x1, width, n, log x) of the display dataset
        super().__init__(*args, **kwargs)

    def set_series(self, x: np.ndarray, y: np.ndarray, pyramid: MinMaxPyramid | None, **kwargs: Any) -> None:
        """Show (x, y) drawn through `pyramid` (kept up to date with y by the caller)."""
        self.pyramid = pyramid if len(x) >= DECIMATE_MIN else None
        self._sorted = self.pyramid is not None and bool(np.isfinite(x[[0, -1]]).all() and (x[1:] >= x[:-1]).all())
        self._shown_for = None
        self.setData(x, y, **kwargs)

    def shown_points(self) -> int:
        """How many points the curve draws now (tests, benchmarks)."""
        x = self.curve.xData
        return 0 if x is None else len(x)

    def _view_key(self) -> tuple[Any, ...] | None:
        view = self.getViewBox()
        if view is None or self._dataset is None:
            return None
        width = max(1, int(round(view.width())))
        if view.autoRangeEnabled()[0]:  # the range follows the data: show all of it
            return ("all", width, len(self._dataset.x), self.opts["logMode"][0])
        (x0, x1), _ = view.viewRange()
        return (x0, x1, width, len(self._dataset.x), self.opts["logMode"][0])

    def _getDisplayDataset(self) -> Any:  # noqa: N802 (pyqtgraph's name)
        if self.pyramid is None or not self._sorted or self._dataset is None or self.opts["fftMode"]:
            return super()._getDisplayDataset()
        key = self._view_key()
        if key is None:
            return super()._getDisplayDataset()
        if self._datasetDisplay is not None and key == self._shown_for:
            return self._datasetDisplay
        x, y = self._dataset.x, self._dataset.y
        log_x = bool(self.opts["logMode"][0])
        if key[0] == "all":
            first, last = float(x[0]), float(x[-1])
            edges = pixel_edges(first, last, key[1], False) if not log_x or first <= 0 else \
                pixel_edges(np.log10(first), np.log10(last), key[1], True)
        else:
            edges = pixel_edges(key[0], key[1], key[2], log_x)
        idx = visible_indices(self.pyramid, x, y, edges)
        shown = PlotDataset(x[idx], y[idx])
        if True in self.opts["logMode"]:
            shown.applyLogMapping(self.opts["logMode"])
        self._datasetDisplay, self._shown_for = shown, key
        self.setProperty("xViewRangeWasChanged", False)
        self.setProperty("yViewRangeWasChanged", False)
        return shown

    def viewTransformChanged(self) -> None:  # noqa: N802 (pyqtgraph's name)
        """A resize changes the pixels the curve has: draw it again for the new width."""
        super().viewTransformChanged()
        if self.pyramid is not None and self._shown_for is not None and self._view_key() != self._shown_for:
            self.updateItems(styleUpdate=False)
