"""Every key and mouse binding of the viewer in one table: the menus, the fly keys, the status bar and F1 read it.

To add a key: add a Binding with a `name`, then make the action where it belongs with
`window.add_bound_action(menu, name, slot)`; the F1 list and the status bar follow by themselves."""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtGui import QKeySequence


@dataclass(frozen=True)
class Binding:
    """One key or mouse gesture. `keys` is shown as it is and, for a key, read by QKeySequence ("R", "Ctrl+O")."""

    keys: str
    what: str  # what it does: the F1 list
    name: str = ""  # the menu action or fly motion it drives; '' for a mouse gesture (see canvas.PointerInput)
    mode: str = ""  # when it applies: '' always, 'orbit' or 'fly' navigation
    hint: str = ""  # its words in the status bar ('' keeps it out)
    title: str = ""  # the menu item's text, for a menu action

    @property
    def is_key(self) -> bool:
        return bool(self.name) and self.name not in MOUSE


MOUSE = {"drag", "right_drag", "wheel", "divider"}  # gestures handled by the canvas, listed for F1 and the hint

# What each fly key moves: (forward, right, up), each -1, 0 or 1.
FLY_MOTIONS = {"fly_forward": (1, 0, 0), "fly_back": (-1, 0, 0), "fly_left": (0, -1, 0), "fly_right": (0, 1, 0),
               "fly_down": (0, 0, -1), "fly_up": (0, 0, 1)}
FLY_FAST = "fly_fast"

BINDINGS: tuple[Binding, ...] = (
    Binding("Left-drag", "orbit around the scene centre", "drag", "orbit", "drag orbit"),
    Binding("Right- or middle-drag", "pan", "right_drag", "orbit", "right-drag pan"),
    Binding("Wheel", "zoom", "wheel", "orbit", "wheel zoom"),
    Binding("Left-drag", "look around", "drag", "fly", "drag look"),
    Binding("Right- or middle-drag", "slide sideways and up or down", "right_drag", "fly"),
    Binding("Wheel", "fly faster or slower", "wheel", "fly", "wheel speed"),
    Binding("W", "fly forward", "fly_forward", "fly", "W A S D Q E move"),
    Binding("S", "fly back (File > Save view as PNG still saves)", "fly_back", "fly"),
    Binding("A", "fly left", "fly_left", "fly"),
    Binding("D", "fly right", "fly_right", "fly"),
    Binding("Q", "fly down", "fly_down", "fly"),
    Binding("E", "fly up", "fly_up", "fly"),
    Binding("Shift", "hold with a fly key: 4x faster", FLY_FAST, "fly", "Shift faster"),
    Binding("F", "switch between orbit and fly navigation", "fly", "", "F fly/orbit", "Fly navigation"),
    Binding("Drag the divider", "move the split between teacher (left) and student (right)", "divider"),
    Binding("R", "reset the view", "reset", "", "R reset", "Reset view"),
    Binding("[", "previous dataset camera (the Compare tab then scores both models against the real image)",
            "previous_camera", "", "[ ] cameras", "Previous dataset camera"),
    Binding("]", "next dataset camera", "next_camera", "", "", "Next dataset camera"),
    Binding("1", "colour: the student's image", "mode_colour", "", "1 2 3 modes", "Colour"),
    Binding("2", "depth, colour-mapped from near (blue) to far (red), with a legend", "mode_depth", "", "",
            "Depth"),
    Binding("3", "error: |teacher - student| per pixel as a heat map, with its scale", "mode_error", "", "",
            "Error against the teacher"),
    Binding("V", "split view: teacher left of a draggable divider, student right, same camera", "split", "",
            "V split", "Split view"),
    Binding("Ctrl+O", "open a scene checkpoint (or drop a .ckpt file on the window)", "open", "", "",
            "Open scene..."),
    Binding("S", "save the rendered view as a PNG", "save_view", "orbit", "S save", "Save view as PNG"),
    Binding("Ctrl+Shift+S", "save the whole window as a PNG", "save_window", "", "", "Save window as PNG..."),
    Binding("H", "error heat-map |teacher - student| in the Compare tab", "heatmap", "", "H heat-map",
            "Error heat-map"),
    Binding("K", "add the view as a keyframe of the camera path (Path tab: play it, save it, render a video)",
            "add_keyframe", "", "K keyframe", "Add the view to the camera path"),
    Binding("F1", "this list", "help", "", "F1 help", "Mouse and keys"),
    Binding("Ctrl+Q", "quit (a running job is stopped and saved first)", "quit", "", "", "Quit"),
)

MODE_NAMES = {"orbit": "Orbit", "fly": "Fly", "": "Everywhere"}


def binding(name: str, mode: str = "") -> Binding:
    """The row driving `name` (for a name bound in several modes, the one for `mode`)."""
    rows = [b for b in BINDINGS if b.name == name]
    for row in rows:
        if row.mode in ("", mode) or len(rows) == 1:
            return row
    raise KeyError(f"no binding named {name!r}")


def key_sequence(name: str) -> QKeySequence:
    return QKeySequence(binding(name).keys)


def fly_keys() -> dict:
    """{Qt key: (forward, right, up)} for every fly motion key."""
    return {QKeySequence(b.keys)[0].key(): FLY_MOTIONS[b.name] for b in BINDINGS if b.name in FLY_MOTIONS}


def status_hint(mode: str) -> str:
    """The status bar's one line for orbit or fly navigation."""
    return " · ".join(b.hint for b in BINDINGS if b.hint and b.mode in ("", mode))


def help_sections() -> list[tuple[str, list[Binding]]]:
    """(heading, rows) for the F1 list: orbit, fly, then everywhere."""
    return [(MODE_NAMES[mode], [b for b in BINDINGS if b.mode == mode]) for mode in ("orbit", "fly", "")]
