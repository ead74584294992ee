"""The app's questions and its help box: yes/no confirmations (patched in tests) and the mouse and key list."""

from __future__ import annotations

import platform

from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR
from PyQt6.QtWidgets import QMessageBox

TITLE = "R2L Viewer"

STATUS_HINT = "drag orbit · right-drag pan · wheel zoom · R reset · [ ] cameras · S save · H heat-map · F1 help"

KEYS = (
    ("Left-drag", "orbit around the scene centre"),
    ("Right- or middle-drag", "pan"),
    ("Wheel", "zoom"),
    ("R", "reset the view"),
    ("[  ]", "previous / next dataset camera (the Compare tab then scores both models against the real image)"),
    ("Ctrl+O", "open a scene checkpoint (or drop a .ckpt file on the window)"),
    ("S", "save the rendered view as a PNG"),
    ("Ctrl+Shift+S", "save the whole window as a PNG"),
    ("H", "error heat-map |teacher - student| in the Compare tab"),
    ("K", "add the view as a keyframe of the camera path (Path tab: play it, save it, render a video)"),
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


def about_html(device_text: str) -> str:
    """Versions of R2L Viewer and of what it runs on, and the device it renders on."""
    import torch

    from r2l_viewer import __version__

    rows = (("R2L Viewer", __version__), ("torch", torch.__version__), ("device", device_text),
            ("Qt / PyQt", f"{QT_VERSION_STR} / {PYQT_VERSION_STR}"), ("Python", platform.python_version()))
    cells = "".join(f"<tr><td><b>{key}</b></td><td>{value}</td></tr>" for key, value in rows)
    return (f"<p>Distil a NeRF into a fast residual neural light field (R2L, Wang et al., ECCV 2022), and watch, "
            f"train and compare both live.</p><table cellspacing='4'>{cells}</table>")


def show_about(parent, device_text: str) -> QMessageBox:
    """The About box, not blocking the window (returned so it can be checked)."""
    box = QMessageBox(QMessageBox.Icon.NoIcon, f"About {TITLE}", about_html(device_text),
                      QMessageBox.StandardButton.Close, parent)
    box.setModal(False)
    box.show()
    return box
