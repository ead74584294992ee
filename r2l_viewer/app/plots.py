"""Live training curves with pyqtgraph: loss (log scale) and PSNR (training batches and validation)."""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtWidgets import QHBoxLayout, QWidget


def _plot(title: str, y_label: str, log_y: bool = False) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    plot.setTitle(title, color="#333", size="9pt")
    plot.setLabel("bottom", "step")
    plot.setLabel("left", y_label)
    plot.setLogMode(y=log_y)
    plot.getAxis("left").enableAutoSIPrefix(False)
    plot.getAxis("left").setStyle(textFillLimits=[(0, 0.4), (2, 0.3)])  # fewer labels on the log axis
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMinimumHeight(120)
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
