"""Compare panel: teacher and student side by side for the same camera, the metrics between them, latencies."""

from __future__ import annotations

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from r2l_viewer.app.workers.compare_worker import CompareResult
from r2l_viewer.app.canvas.image_view import ImageView
from r2l_viewer.app.panels.model_info import format_ms
from r2l_viewer.app.canvas.pacing import RollingMedian

STALE = "stale: camera moving"
COARSE = "coarse: refining..."
STALE_STYLE = "color: #8a8a8a;"
NO_TEACHER = "no teacher in this checkpoint"
NO_STUDENT = "no student yet: Distill in the Train tab"


class LatencyMedians(QObject):
    """Each model's median compare latency over its last frames, all rendered at `size`: a small model the Compare
    panel fills and the Info panel also shows. `changed` after every update."""

    changed = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.times = {"teacher": RollingMedian(), "student": RollingMedian()}
        self.size: tuple[int, int] | None = None  # (width, height) of the frames timed

    @property
    def size_note(self) -> str:
        return f"{self.size[0]}x{self.size[1]}" if self.size else ""

    def median(self, role: str) -> float | None:
        return self.times[role].median

    def frames(self, role: str) -> int:
        return len(self.times[role].values)

    def set_size(self, width: int, height: int) -> None:
        """Frames are compared at this size from now on; times taken at another size are dropped."""
        if self.size != (width, height):
            self.size = (width, height)
            self.clear(*self.times)

    def clear(self, *roles: str) -> None:
        for role in roles:
            self.times[role].clear()
        self.changed.emit()

    def add(self, result: CompareResult) -> None:
        """Each model's time from a result rendered at `size` (a result at another size is ignored)."""
        frame = result.student if result.student is not None else result.teacher
        if frame is not None and self.size is not None and tuple(frame.shape[1::-1]) != self.size:
            return
        for role, times in self.times.items():
            seconds = getattr(result, f"{role}_s")
            if seconds is not None:
                times.add(seconds)
        self.changed.emit()


class ComparePanel(QWidget):
    """Shows CompareResults; while the camera moves the student side follows the live view, the teacher is stale."""

    teacher_shown = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.teacher_view = ImageView("Teacher")
        self.student_view = ImageView("Student")
        self.error_view = ImageView("|teacher - student| (0 to 0.25)")
        self.error_view.setVisible(False)
        self.heatmap = QCheckBox("Error heat-map")
        self.heatmap.setToolTip("show the per-pixel absolute difference of teacher and student as a heat map")
        self.heatmap.toggled.connect(self.error_view.setVisible)
        self.metrics, self.latency, self.real = QLabel("-"), QLabel("-"), QLabel("-")
        for label in (self.metrics, self.latency, self.real):
            label.setWordWrap(True)
        self.latencies = LatencyMedians(self)
        self.teacher_times, self.student_times = self.latencies.times["teacher"], self.latencies.times["student"]
        self.architectures: tuple = (None, None)  # the medians belong to these models' shapes
        self.texts = {"metrics": "-", "real": "-"}  # the figures without a stale mark
        self.stale = False
        self.last_result: CompareResult | None = None
        self._layout()
        self.latencies.changed.connect(self._show_latency)

    def _layout(self) -> None:
        views = QHBoxLayout()
        views.addWidget(self.teacher_view)
        views.addWidget(self.student_view)
        form = QFormLayout()
        form.addRow("Student vs teacher:", self.metrics)
        form.addRow("Latency (median):", self.latency)
        form.addRow("Vs the real image:", self.real)
        layout = QVBoxLayout(self)
        layout.addLayout(views)
        layout.addLayout(form)
        layout.addWidget(self.heatmap)
        layout.addWidget(self.error_view)
        layout.addStretch(1)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        margins = self.layout().contentsMargins()
        side = (self.width() - margins.left() - margins.right() - self.layout().spacing()) // 2
        for view in (self.teacher_view, self.student_view, self.error_view):
            view.fit_width(side)

    def set_model_names(self, teacher: str, student: str, architectures: tuple = (None, None)) -> None:
        """Captions; a model's latency median is kept across training snapshots and cleared when its
        architecture changes (a latency says what the network costs, not which weights it holds)."""
        self.teacher_view.caption, self.student_view.caption = teacher, student
        changed = [role for role, old, new in zip(("teacher", "student"), self.architectures, architectures)
                   if old != new]
        if changed:
            self.latencies.clear(*changed)
        self.architectures = tuple(architectures)
        self.teacher_view.update()
        self.student_view.update()

    def show_missing(self, has_teacher: bool, has_student: bool) -> None:
        """Say which models the scene lacks now (their panes would otherwise wait for a result forever)."""
        for present, view, note in ((has_teacher, self.teacher_view, NO_TEACHER),
                                    (has_student, self.student_view, NO_STUDENT)):
            if not present:
                view.set_image(None)
                view.set_empty_note(note)
        if not (has_teacher and has_student):
            self._set_figures(metrics="needs both a teacher and a student")

    def set_compare_size(self, width: int, height: int) -> None:
        self.latencies.set_size(width, height)

    def camera_moved(self) -> None:
        """The shown teacher image and the figures no longer match the camera."""
        if self.teacher_view.image is not None:
            self.teacher_view.set_stale(STALE)
        if self.error_view.image is not None:
            self.error_view.set_stale(STALE)
        if self.last_result is not None and not self.stale:
            self.stale = True
            self._set_figures()

    def _set_figures(self, **texts: str) -> None:
        """Show the camera-dependent figures (PSNR/SSIM, vs the real image), greyed with a note when stale."""
        self.texts.update(texts)
        for name, label in (("metrics", self.metrics), ("real", self.real)):
            text = self.texts[name]
            marked = self.stale and text != "-"
            label.setText(f"{text} ({STALE})" if marked else text)
            label.setStyleSheet(STALE_STYLE if marked else "")

    def show_live_student(self, rgb) -> None:
        self.student_view.set_image(rgb)

    def show_coarse_teacher(self, result: CompareResult) -> None:
        """A quick low-resolution teacher for the camera now shown, while the full render is on its way."""
        self.teacher_view.set_image(result.teacher, COARSE, dimmed=False)

    def show_result(self, result: CompareResult) -> None:
        self.last_result = result
        self.teacher_view.set_image(result.teacher)
        self.student_view.set_image(result.student)
        self.error_view.set_image(result.error)
        self.show_missing(result.teacher is not None, result.student is not None)
        self.latencies.add(result)
        self._show_metrics(result)
        if result.teacher is not None:
            self.teacher_shown.emit()

    def _show_metrics(self, result: CompareResult) -> None:
        self.stale = False
        if result.psnr is None:
            metrics = "needs both a teacher and a student"
        else:
            ssim = "-" if result.ssim is None else f"{result.ssim:.3f}"
            metrics = f"PSNR {result.psnr:.2f} dB, SSIM {ssim}"
        if result.real_psnr:
            parts = [f"{name} {value:.2f} dB" for name, value in sorted(result.real_psnr.items(), reverse=True)]
            real = f"{', '.join(parts)} ({result.real_note})"
        else:
            real = result.real_note or "-"
        self._set_figures(metrics=metrics, real=real)

    def _show_latency(self) -> None:
        self.latency.setText(self._latency_text())

    def _latency_text(self) -> str:
        t, s = self.teacher_times.median, self.student_times.median
        text = f"teacher {format_ms(t)}, student {format_ms(s)}"
        if t and s:
            text += f": {t / s:.0f}x faster"
        counts = [len(times.values) for times in (self.teacher_times, self.student_times) if times.values]
        if not counts:
            return text
        if len(set(counts)) == 1:
            frames = f"median of {counts[0]} frame{'s' if counts[0] > 1 else ''}"
        else:
            teacher, student = len(self.teacher_times.values), len(self.student_times.values)
            frames = f"median of {teacher} teacher and {student} student frames"
        return f"{text} ({self.latencies.size_note}, {frames})"
