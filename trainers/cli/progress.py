"""Showing a job's events on a terminal: a progress bar per stage with rays/s, loss, PSNR and ETA, and log lines."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from tqdm import tqdm

from trainers.events import DONE, LOG, PROGRESS, SAVED, STOPPED, VALIDATION, Event


def _format_metrics(metrics: dict) -> str:
    return ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items())


class ProgressPrinter:
    """Consumes events; returns the last one (its kind says whether the run finished or stopped)."""

    def __init__(self, stream=None, quiet: bool = False):
        self.stream, self.quiet = stream or sys.stderr, quiet  # sys.stderr as it is now, not at import time
        self.bar: tqdm | None = None
        self.stage: str | None = None

    def _bar_for(self, event: Event) -> tqdm:
        if self.bar is None or self.stage != event.stage:
            self.close()
            self.stage = event.stage
            unit = {"pseudo": "view", "video": "frame"}.get(event.stage, "step")
            self.bar = tqdm(total=event.total or None, desc=event.stage, unit=unit, file=self.stream,
                            dynamic_ncols=True, disable=self.quiet, initial=event.step)
        return self.bar

    def write(self, text: str) -> None:
        if not self.quiet:
            tqdm.write(text, file=self.stream)

    def show(self, event: Event) -> None:
        if event.kind == PROGRESS:
            bar = self._bar_for(event)
            bar.update(max(0, event.step - bar.n))
            postfix = {}
            if event.rays_per_s:
                postfix["rays/s"] = f"{event.rays_per_s:,.0f}"
            if event.loss is not None:
                postfix["loss"] = f"{event.loss:.5f}"
            if event.psnr is not None:
                postfix["psnr"] = f"{event.psnr:.2f}"
            bar.set_postfix(postfix, refresh=False)
        elif event.kind == VALIDATION:
            self.write(f"[{event.stage}] step {event.step}: {_format_metrics(event.metrics)}")
        elif event.kind in (LOG, SAVED):
            self.write(f"[{event.stage}] {event.message}")
        elif event.kind in (DONE, STOPPED):
            if self.bar is not None and event.kind == DONE:
                self.bar.update(max(0, event.step - self.bar.n))
            self.close()
            self.write(f"[{event.stage}] {event.message}")

    def consume(self, events: Iterable[Event]) -> Event | None:
        """Show every event; the bar is closed (its line ended) also when the job fails, so that the error
        printed next has a line of its own and no bar redraws over it."""
        last = None
        try:
            for event in events:
                self.show(event)
                last = event
        finally:
            self.close()
        return last

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
