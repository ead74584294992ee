"""What the live view renders in each mode (no Qt): which model gives the main image and the split view's teacher
side, what the overlay says when a mode cannot be shown as asked, and the legend of a colour-mapped image."""

from __future__ import annotations

from dataclasses import dataclass

from r2l_viewer.core.colormap import ERROR_SCALE

NO_ERROR = "error mode needs a teacher and a student: showing colour"
NO_STUDENT_DEPTH = "the student gives no depth: showing the teacher's"
NO_DEPTH = "no depth: the student gives none and there is no teacher: showing colour"
SPLIT_NEEDS_BOTH = "split view needs a teacher and a student"
SPLIT_NOT_ERROR = "split view shows colour or depth, not the error map"
SPLIT_NO_STUDENT_DEPTH = "split view off in depth mode: the student gives no depth"


@dataclass(frozen=True)
class Pass:
    """One image to render for a camera: `source` student, teacher or both (the error map); `output` rgb, depth or
    error; `label` names it in the overlay."""

    source: str
    output: str
    label: str

    @property
    def uses_teacher(self) -> bool:
        return self.source in ("teacher", "both")

    @property
    def key(self) -> tuple[str, str]:
        """What the pass costs depends on: its frame-time estimates are kept per key."""
        return self.source, self.output


@dataclass(frozen=True)
class ViewPlan:
    """The passes for one camera: `main` (None with no model at all), the split view's `left` (the teacher), and
    notes on what could not be shown as asked."""

    main: Pass | None
    left: Pass | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SceneModels:
    """What the open scene has: each model's label (None when missing) and whether the student gives depth."""

    student: str | None
    teacher: str | None
    student_depth: bool = False


def _main_pass(mode: str, models: SceneModels, notes: list[str]) -> Pass:
    student, teacher = models.student, models.teacher
    if mode == "error":
        if student and teacher:
            return Pass("both", "error", "error |teacher - student|")
        notes.append(NO_ERROR)
    if mode == "depth":
        if student and models.student_depth:
            return Pass("student", "depth", f"{student} depth")
        if teacher:
            if student:
                notes.append(NO_STUDENT_DEPTH)
            return Pass("teacher", "depth", f"{teacher} depth")
        notes.append(NO_DEPTH)
    if student:
        return Pass("student", "rgb", student)
    return Pass("teacher", "rgb", "teacher (no student yet)")


def plan_view(mode: str, split: bool, models: SceneModels) -> ViewPlan:
    """The passes that show `mode` (colour, depth or error), with the teacher left of the divider when `split`."""
    if not (models.student or models.teacher):
        return ViewPlan(None)
    notes: list[str] = []
    main = _main_pass(mode, models, notes)
    left = None
    if split:
        if main.output == "error":
            notes.append(SPLIT_NOT_ERROR)
        elif not (models.student and models.teacher):
            notes.append(SPLIT_NEEDS_BOTH)
        elif main.source == "teacher":
            notes.append(SPLIT_NO_STUDENT_DEPTH)  # both sides would be the teacher's depth
        else:
            depth = main.output == "depth"
            left = Pass("teacher", main.output, f"{models.teacher} depth" if depth else models.teacher)
    return ViewPlan(main, left, tuple(notes))


@dataclass(frozen=True)
class Legend:
    """The scale of a colour-mapped image: `colormap` (turbo or heat) from `low` to `high`, with a title."""

    title: str
    colormap: str
    low: float
    high: float
    low_text: str
    high_text: str


DEPTH_TITLES = {
    "object": "depth (scene units)",
    "forward": "depth, NDC (0: near plane, 1: infinity)",
    "unbounded": "depth along the contracted ray (scene units near the cameras, squashed beyond)",
}


def legend_for(main: Pass | None, depth_range: tuple[float, float], kind: str) -> Legend | None:
    """The legend of a depth or error image (None for colour); depth's units follow the scene's kind ('object',
    'unbounded' or 'forward')."""
    if main is None or main.output == "rgb":
        return None
    if main.output == "error":
        return Legend("|teacher - student| (mean over RGB)", "heat", 0.0, ERROR_SCALE, "0", f"{ERROR_SCALE:g}+")
    near, far = depth_range
    title = DEPTH_TITLES[kind]
    return Legend(title, "turbo", near, far, f"near {near:.2f}", f"far {far:.2f}")
