"""A settings form built from a job config dataclass: the fields marked gui=True, with their help and bounds."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import fields, is_dataclass

from PyQt6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from r2l_viewer.core.config import ConfigError, validate

INT_LIMIT = 2**31 - 1


def gui_fields(config, prefix: str = "") -> list[tuple[str, dataclasses.Field, type]]:
    """(dotted path, field, type) of every gui=True field, nested configs included; scene values never."""
    found = []
    hints = typing.get_type_hints(type(config))
    for f in fields(config):
        value = getattr(config, f.name)
        if is_dataclass(value):
            found += gui_fields(value, f"{prefix}{f.name}.")
        elif f.metadata.get("gui") and not f.metadata.get("scene"):
            found.append((prefix + f.name, f, hints[f.name]))
    return found


def get_path(config, path: str):
    for part in path.split("."):
        config = getattr(config, part)
    return config


def replace_path(config, path: str, value):
    """A copy of `config` with the (dotted) field at `path` set to `value`."""
    head, _, rest = path.partition(".")
    if not rest:
        return dataclasses.replace(config, **{head: value})
    return dataclasses.replace(config, **{head: replace_path(getattr(config, head), rest, value)})


def label_for(path: str) -> str:
    return path.replace(".", " ").replace("_", " ")


def make_editor(f: dataclasses.Field, hint) -> QWidget:
    meta = f.metadata
    if meta.get("choices"):
        editor = QComboBox()
        editor.addItems([str(c) for c in meta["choices"]])
    elif hint is bool:
        editor = QCheckBox()
    elif hint is int:
        editor = QSpinBox()
        editor.setRange(int(max(meta.get("min") or 0, -INT_LIMIT)), int(min(meta.get("max") or INT_LIMIT, INT_LIMIT)))
        editor.setGroupSeparatorShown(True)
    else:
        editor = QLineEdit()
    editor.setToolTip(meta.get("help", ""))
    return editor


def set_editor(editor: QWidget, value) -> None:
    if isinstance(editor, QComboBox):
        editor.setCurrentText(str(value))
    elif isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QSpinBox):
        editor.setValue(int(value))
    else:
        editor.setText(f"{value:g}" if isinstance(value, float) else str(value))


def read_editor(editor: QWidget, hint, path: str):
    if isinstance(editor, QComboBox):
        return editor.currentText()
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QSpinBox):
        return editor.value()
    text = editor.text().strip()
    if hint is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{path}: '{text}' is not a number") from None
    return text


class SettingsForm(QWidget):
    """Rows for a config's gui fields; `config()` returns the edited copy, validated (ConfigError if not)."""

    def __init__(self, config, name: str, parent=None):
        super().__init__(parent)
        self._config, self.name = config, name  # (errors name a setting as 'name.field')
        self.editors: dict[str, tuple[QWidget, type]] = {}
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for path, f, hint in gui_fields(config):
            editor = make_editor(f, hint)
            self.editors[path] = (editor, hint)
            layout.addRow(label_for(path), editor)
        self.set_config(config)

    def set_config(self, config) -> None:
        self._config = config
        for path, (editor, _) in self.editors.items():
            set_editor(editor, get_path(config, path))

    def set_value(self, path: str, value) -> None:
        set_editor(self.editors[path][0], value)

    def config(self):
        config = self._config
        for path, (editor, hint) in self.editors.items():
            config = replace_path(config, path, read_editor(editor, hint, path))
        validate(config, self.name)
        return config
