"""The live view's overlay text: frame rate and time, resolution, device and what is shown, the split view's
teacher side, notes on modes that could not be shown as asked, flying, the dataset camera and the camera's limits."""

from __future__ import annotations

import torch

from r2l_viewer.core.config import to_dict
from r2l_viewer.core.view_ranges import view_ranges
from trainers.configs import PseudoConfig

LIMIT_NOTES = {"zoom": "zoom limit: the student learnt views from this range only",
               "elevation": "tilt limit: the student learnt views from these heights only"}
FLY_OUTSIDE = "fly: outside the distances the student learnt, expect artefacts"
FLY_MARGIN = 0.1  # the distance may stray this share outside the student's range before the overlay warns


def student_views(session) -> dict | None:
    """The views the open student was trained on (the distill job records them; the paper's pseudo-view settings
    for older checkpoints); None without a student, whose teacher renders any view of its box."""
    record = session.checkpoint.student
    if session.student is None or record is None:
        return None
    return record.get("views") or view_ranges(session.meta, to_dict(PseudoConfig()))


def overlay_lines(live, frame) -> list[str]:
    """The overlay of LiveView `live` showing main Frame `frame`."""
    h, w = frame.rgb.shape[:2]
    full_w, quality = live.full_size()[0], frame_quality(live, frame)
    ms = f"{frame.seconds * 1000:.0f} ms/frame"
    fps = live.fps.fps
    rate = "moving" if fps is None else f"{fps:.1f} FPS"
    lines = [f"{rate}  {ms}" if live.moving else f"at rest  {ms}",
             f"{w}x{h} {quality}" + ("" if quality == "full" else f" ({w / full_w:.0%} of {full_w})"),
             f"{live.device_text}  {frame.label}"]
    lines += split_lines(live, frame) + list(live.plan.notes) + fly_lines(live)
    if live.camera_ref is not None:
        split, index = live.camera_ref
        lines.append(f"{split} camera {index}")
    if live.camera.limit and live.fly is None:
        lines.append(LIMIT_NOTES[live.camera.limit])
    return lines


def frame_quality(live, frame) -> str:
    if frame.full:
        return "full" if live.is_full_size(frame) else "capped (slow model)"
    return "moving" if live.moving else "preview"


def split_lines(live, frame) -> list[str]:
    """What the split view's left side shows: the teacher at its own resolution, or that it is catching up."""
    if live.plan.left is None:
        return []
    left = live.left_frame
    if left is None:
        return [f"split: left {live.plan.left.label}, rendering..."]
    h, w = left.rgb.shape[:2]
    same = left.c2w is not None and frame.c2w is not None and torch.equal(left.c2w, frame.c2w)
    return [f"split: left {left.label} {w}x{h}" + ("" if same else ", an earlier view: catching up")]


def fly_lines(live) -> list[str]:
    """The fly speed, and a warning once the camera leaves the distances the student was trained at."""
    if live.fly is None:
        return []
    lines = [f"fly  {live.fly.speed:.2f} units/s (wheel: speed, F: orbit)"]
    views = student_views(live.session)
    if views is not None:
        lo, hi = (float(r) for r in views["radius"])
        distance = live.fly.distance_to(live.camera.center)
        if not (1 - FLY_MARGIN) * lo <= distance <= (1 + FLY_MARGIN) * hi:
            lines.append(FLY_OUTSIDE)
    return lines
