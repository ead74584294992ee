"""Whether Qt can open a window here, checked before a QApplication exists (Qt aborts the process when it cannot)."""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Mapping

HEADLESS_HINT = "run it under xvfb-run, or set QT_QPA_PLATFORM"


def x_display_error(display: str) -> str | None:
    """None when an X connection to `display` opens (what Qt's xcb platform does first), else why not. Without
    libxcb nothing is checked (None): Qt then says what is missing."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return None
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)  # never NULL: an error object when it failed
    try:
        failed = xcb.xcb_connection_has_error(connection)
    finally:
        xcb.xcb_disconnect(connection)
    if not failed:
        return None
    return f"cannot connect to the X display '{display}' (DISPLAY): no X server answers there; {HEADLESS_HINT}"


def choose_platform(env: Mapping[str, str], screenshot: bool,
                    platform: str = sys.platform) -> tuple[str | None, str | None]:
    """(Qt platform to set, or None to leave Qt's choice; a one-line error, or None). Only X11 is checked: a
    platform set by the user other than xcb (offscreen, wayland, a list) and Wayland sessions are Qt's to open.
    With no display at all a --screenshot is drawn offscreen."""
    if not platform.startswith("linux"):
        return None, None
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if chosen and chosen != "xcb":
        return None, None
    if not chosen and env.get("WAYLAND_DISPLAY"):
        return None, None
    display = env.get("DISPLAY", "")
    if not display:
        if chosen:
            return None, f"QT_QPA_PLATFORM is xcb but DISPLAY is not set; {HEADLESS_HINT}"
        if screenshot:
            return "offscreen", None  # a screenshot needs no screen: QPainter canvas, no OpenGL
        return None, f"no display to open a window on; {HEADLESS_HINT}"
    return None, x_display_error(display)
