"""The app's questions and boxes: yes/no confirmations (patched in tests), the mouse and key list, About."""

from __future__ import annotations

import platform

from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR
from PyQt6.QtWidgets import QMessageBox

from r2l_viewer.app.bindings import help_sections

TITLE = "R2L Viewer"


def ask(parent, question: str) -> bool:
    """Ask a yes/no question; True for yes."""
    return QMessageBox.question(parent, TITLE, question) == QMessageBox.StandardButton.Yes


def keys_help_html() -> str:
    """Every binding of the table in r2l_viewer/app/bindings.py, under a heading per navigation mode."""
    parts = []
    for heading, rows in help_sections():
        cells = "".join(f"<tr><td><b>{b.keys}</b></td><td>{b.what}</td></tr>" for b in rows)
        parts.append(f"<tr><td colspan='2'><br><i>{heading}</i></td></tr>{cells}")
    return f"<table cellspacing='4'>{''.join(parts)}</table>"


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
