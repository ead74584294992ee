"""The Train tab's settings: a preset chooser and, in a section that folds away, one form per job's config."""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtWidgets import (
    QComboBox, QGroupBox, QHBoxLayout, QLabel, QSizePolicy, QTabWidget, QToolButton, QVBoxLayout, QWidget,
)

from trainers.jobs.pipeline import finished
from trainers.presets import PRESETS, get_preset
from trainers.storage.workspace import RunContext, Workspace

from r2l_viewer.app.workers.job_thread import report_failure
from r2l_viewer.app.panels.settings_form import SettingsForm

JOBS = ("teacher", "distill", "finetune")  # the settings pages, in the order of the Train tab's buttons


class CurrentPageTabs(QTabWidget):
    """A QTabWidget as tall as the page shown (a plain one is as tall as its tallest page)."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if self.currentWidget() is None:
            return hint
        tallest = max(self.widget(i).sizeHint().height() for i in range(self.count()))
        return QSize(hint.width(), hint.height() - tallest + self.currentWidget().sizeHint().height())


class TrainSettings(QWidget):
    """The forms, which fold away (a job running folds them, giving its curves the room), their pages as tall as
    the one shown; `preset_row` (placed by the panel) chooses the preset. `current_preset()` gives the preset with
    the edited values."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.preset_box = QComboBox()
        self.preset_box.addItems(list(PRESETS))
        self.preset_box.setCurrentText("tiny" if session.device.type == "cpu" else "standard")
        self.preset_note = QLabel()
        self.preset_note.setWordWrap(True)
        preset = get_preset(self.preset_box.currentText())
        self.forms = {name: SettingsForm(getattr(preset, name), name) for name in (*JOBS, "pseudo")}
        self.toggle = QToolButton(text="Settings", checkable=True, checked=True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAutoRaise(True)
        self.tabs = self._make_tabs()
        self._layout()
        self.toggle.toggled.connect(self.unfold)
        self.tabs.currentChanged.connect(self._fit_page)
        self.preset_box.currentTextChanged.connect(self.load_preset)
        self.unfold(True)
        self._fit_page(self.tabs.currentIndex())
        self.load_preset(self.preset_box.currentText())

    def _make_tabs(self) -> QTabWidget:
        tabs = CurrentPageTabs()
        distill = QWidget()
        column = QVBoxLayout(distill)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.forms["distill"])
        pseudo_box = QGroupBox("Pseudo data on disk")
        pseudo_note = QLabel("rendered by the teacher first when 'online' is off and none exists yet")
        pseudo_note.setWordWrap(True)
        pseudo_column = QVBoxLayout(pseudo_box)
        pseudo_column.addWidget(pseudo_note)
        pseudo_column.addWidget(self.forms["pseudo"])
        column.addWidget(pseudo_box)
        pages = (self.forms["teacher"], distill, self.forms["finetune"])
        for page, job in zip(pages, JOBS):
            tabs.addTab(page, job.capitalize())
        return tabs

    def _layout(self) -> None:
        self.preset_row = QWidget()
        top = QHBoxLayout(self.preset_row)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Preset:"))
        top.addWidget(self.preset_box)
        top.addWidget(self.preset_note, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle)
        layout.addWidget(self.tabs)

    def unfold(self, shown: bool) -> None:
        self.toggle.setChecked(shown)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.tabs.setVisible(shown)

    def show_job(self, name: str) -> None:
        self.tabs.setCurrentIndex(JOBS.index(name))

    def _fit_page(self, current: int) -> None:
        """Hidden pages' sizes are ignored (for the minimum size; CurrentPageTabs does it for the size hint)."""
        for index in range(self.tabs.count()):
            policy = QSizePolicy.Policy.Preferred if index == current else QSizePolicy.Policy.Ignored
            self.tabs.widget(index).setSizePolicy(policy, policy)
        self.tabs.widget(current).adjustSize()
        self.tabs.updateGeometry()

    def load_preset(self, name: str) -> None:
        preset = get_preset(name)
        for job, form in self.forms.items():
            form.set_config(getattr(preset, job))
        has_pseudo, unknown = self._has_pseudo_data()
        self.forms["distill"].set_value("online", not has_pseudo)
        self.preset_note.setText(preset.summary + (f" ({unknown})" if unknown else ""))

    def _has_pseudo_data(self) -> tuple[bool, str]:
        """Whether finished pseudo data for the scene's teacher is on disk; when that cannot be told, False and
        why (distillation then starts online: it renders its own views instead of reading the files)."""
        try:
            return finished("pseudo", RunContext(Workspace(self.session.path))), ""
        except Exception as exc:  # an unreadable checkpoint or pseudo-data manifest, or a bug (traceback printed)
            return False, f"distillation set to online: could not check the pseudo data on disk: {report_failure(exc)}"

    def current_preset(self):
        """The chosen preset with the forms' values (ConfigError when a value is out of range)."""
        preset = get_preset(self.preset_box.currentText())
        for job, form in self.forms.items():
            setattr(preset, job, form.config())
        return preset
