"""Info panel: the scene, both models' sizes, FLOPs per ray, frame times and their ratio, and the device."""

from __future__ import annotations

from html import escape

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from r2l_viewer.app.panels.model_info import describe, scene_rows


class InfoPanel(QWidget):
    """A two-column table, rebuilt whenever the session loads a checkpoint; its speed rows follow `latencies`
    (the Compare panel's LatencyMedians) when given."""

    def __init__(self, session, device_text: str, latencies=None, parent=None):
        super().__init__(parent)
        self.session, self.device_text, self.latencies = session, device_text, latencies
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setWordWrap(True)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.label)
        QVBoxLayout(self).addWidget(scroll)
        session.scene_changed.connect(self.refresh)
        if latencies is not None:
            latencies.changed.connect(self.show_rows)
        self.refresh()

    def refresh(self) -> None:
        """Measure the models again (sizes and FLOPs; a new checkpoint) and show every row."""
        scene = self.session.checkpoint
        self.models = describe(self.session.teacher, scene), describe(self.session.student, scene)
        self.show_rows()

    def show_rows(self) -> None:
        self.rows = scene_rows(self.session, self.device_text, *self.models, self.latencies)
        cells = "".join(f"<tr><td><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>" for k, v in self.rows)
        self.label.setText(f"<table cellspacing='4'>{cells}</table>")
