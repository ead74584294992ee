"""The app's questions and its help box: yes/no confirmations (patched in tests) and the mouse and key list."""

from __future__ import annotations

from PyQt6.QtWidgets import QMessageBox

TITLE = "R2L Viewer"

STATUS_HINT = "drag orbit · right-drag pan · wheel zoom · R reset · [ ] cameras · S save · H heat-map · F1 help"

KEYS = (
    ("Left-drag", "orbit around the scene centre"),
    ("Right- or middle-drag", "pan"),
    ("Wheel", "zoom"),
    ("R", "reset the view"),
    ("[  ]", "previous / next dataset camera (the Compare tab then scores both models against the real image)"),
    ("S", "save the rendered view as a PNG"),
    ("Ctrl+Shift+S", "save the whole window as a PNG"),
    ("H", "error heat-map |teacher - student| in the Compare tab"),
    ("F1", "this list"),
    ("Ctrl+Q", "quit (a running job is stopped and saved first)"),
)


def ask(parent, question: str) -> bool:
    """Ask a yes/no question; True for yes."""
    return QMessageBox.question(parent, TITLE, question) == QMessageBox.StandardButton.Yes


def keys_help_html() -> str:
    rows = "".join(f"<tr><td><b>{key}</b></td><td>{what}</td></tr>" for key, what in KEYS)
    return f"<table cellspacing='4'>{rows}</table>"


def show_keys_help(parent) -> QMessageBox:
    """The mouse and key list in a box that does not block the window (returned so it can be checked)."""
    box = QMessageBox(QMessageBox.Icon.NoIcon, f"{TITLE}: mouse and keys", keys_help_html(),
                      QMessageBox.StandardButton.Close, parent)
    box.setModal(False)
    box.show()
    return box
