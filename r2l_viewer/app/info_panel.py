"""Info panel: the scene, both models' sizes, FLOPs per ray and their ratio, and the device."""

from __future__ import annotations

from html import escape

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from .model_info import describe, scene_rows


class InfoPanel(QWidget):
    """A two-column table, rebuilt whenever the session loads a checkpoint."""

    def __init__(self, session, device_text: str, parent=None):
        super().__init__(parent)
        self.session, self.device_text = session, device_text
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
        self.refresh()

    def refresh(self) -> None:
        rows = scene_rows(self.session, self.device_text, describe(self.session.teacher), describe(self.session.student))
        self.rows = rows
        cells = "".join(f"<tr><td><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>" for k, v in rows)
        self.label.setText(f"<table cellspacing='4'>{cells}</table>")
