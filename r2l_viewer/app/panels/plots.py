"""Live training curves with pyqtgraph: loss (log scale) and PSNR (training batches and validation)."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PyQt6.QtWidgets import QHBoxLayout, QWidget

MIN_LABEL_GAP_PX = 30  # log-axis labels at least this far apart (a 9 pt label is about 14 px tall)
MANTISSAS = ((1,), (1, 2, 5), (1, 2, 3, 5), tuple(range(1, 10)))  # tick sets per decade, sparse to dense


def log_ticks(low: float, high: float, pixels: float, min_gap: float = MIN_LABEL_GAP_PX) -> list[float]:
    """Tick positions (log10 of the values) between `low` and `high` (log10) on an axis `pixels` long, labels at
    least `min_gap` pixels apart: the densest of 1..9 / 1-2-3-5 / 1-2-5 / 1 per decade that gives two ticks or more,
    else every k-th decade, else (less than a decade shown) evenly spaced round values."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low or pixels <= 0:
        return []
    per_decade = pixels / (high - low)
    decades = range(math.floor(low), math.ceil(high) + 1)

    def spaced(ticks: list[float]) -> bool:
        return len(ticks) >= 2 and min(b - a for a, b in zip(ticks, ticks[1:])) * per_decade >= min_gap

    for mantissas in reversed(MANTISSAS):
        ticks = [d + math.log10(m) for d in decades for m in mantissas if low <= d + math.log10(m) <= high]
        if spaced(ticks):
            return ticks
    step = max(1, math.ceil(min_gap / per_decade))
    ticks = [float(d) for d in decades if low <= d <= high and d % step == 0]
    if spaced(ticks):
        return ticks
    kept: list[float] = []
    for tick in linear_ticks(low, high, max(2, int(pixels // min_gap))):  # then thinned: log spacing shrinks
        if not kept or (tick - kept[-1]) * per_decade >= min_gap:
            kept.append(tick)
    return kept


def linear_ticks(low: float, high: float, count: int) -> list[float]:
    """About `count` round values between 10**low and 10**high (1, 2 or 5 times a power of ten apart, the
    nearest to an even split), as log10."""
    lo, hi = 10 ** low, 10 ** high
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = min((m * power for m in (1, 2, 5, 10)), key=lambda value: abs(math.log(value / raw)))
    first = math.ceil(lo / step)
    return [math.log10(k * step) for k in range(first, math.floor(hi / step) + 1) if k > 0]


def format_tick(log_value: float) -> str:
    value = 10 ** log_value
    return f"{value:.3g}" if 1e-3 <= value < 1e4 else f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")


class LogAxis(pg.AxisItem):
    """A log axis whose labels never overlap: see `log_ticks`."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        return [(None, log_ticks(minVal, maxVal, size))]

    def logTickStrings(self, values, scale, spacing):
        return [format_tick(v) for v in values]


def _plot(title: str, y_label: str, log_y: bool = False) -> pg.PlotWidget:
    axes = {"left": LogAxis("left")} if log_y else None
    plot = pg.PlotWidget(background="w", axisItems=axes)
    plot.setTitle(title, color="#333", size="9pt")
    plot.setLabel("bottom", "step")
    plot.setLabel("left", y_label)
    plot.setLogMode(y=log_y)
    plot.getAxis("left").enableAutoSIPrefix(False)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMinimumHeight(110)
    return plot


class TrainingPlots(QWidget):
    """Two plots; `reset` at the start of a job, then `add_progress` and `add_validation` as events arrive."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss_plot = _plot("loss", "MSE", log_y=True)
        self.psnr_plot = _plot("PSNR", "dB")
        self.psnr_plot.addLegend(offset=(-5, -5), labelTextSize="8pt", labelTextColor="#333",
                                 brush=pg.mkBrush(255, 255, 255, 200))
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen("#1f77b4", width=1.5))
        self.psnr_curve = self.psnr_plot.plot(pen=pg.mkPen("#1f77b4", width=1.5), name="batch")
        self.val_points = self.psnr_plot.plot(pen=None, symbol="o", symbolSize=7, symbolBrush="#d62728",
                                              name="validation")
        self.setMinimumHeight(140)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.psnr_plot)
        self.reset("")

    def reset(self, stage: str) -> None:
        self.steps, self.losses, self.psnrs = [], [], []
        self.val_steps, self.val_psnrs = [], []
        self.loss_plot.setTitle(f"{stage} loss" if stage else "loss", color="#333", size="9pt")
        self.psnr_plot.setTitle(f"{stage} PSNR" if stage else "PSNR", color="#333", size="9pt")
        self._redraw()

    def add_progress(self, step: int, loss: float | None, psnr: float | None) -> None:
        if loss is None or loss <= 0:
            return
        self.steps.append(step)
        self.losses.append(loss)
        self.psnrs.append(psnr if psnr is not None else float("nan"))
        self._redraw()

    def add_validation(self, step: int, psnr: float | None) -> None:
        if psnr is None:
            return
        self.val_steps.append(step)
        self.val_psnrs.append(psnr)
        self._redraw()

    def _redraw(self) -> None:
        self.loss_curve.setData(self.steps, self.losses)
        self.psnr_curve.setData(self.steps, self.psnrs)
        self.val_points.setData(self.val_steps, self.val_psnrs)
