"""The range of views a student learns from pseudo data: recorded by distillation, kept to by the viewer."""

from __future__ import annotations

from r2l_viewer.core.datasets import SceneMeta


def view_ranges(meta: SceneMeta, pseudo: dict) -> dict:
    """The range of views a student learns from pseudo data made with `pseudo` (a PseudoConfig as a dict): camera
    distances, focal-length multiples and elevations. Recorded with the student, the viewer keeps its camera there."""
    elevation = pseudo.get("elevation") or meta.elevation_range
    return {"radius": [round(meta.orbit_radius * float(s), 6) for s in pseudo.get("radius_scale", (1.0, 1.0))],
            "focal_scale": [float(s) for s in pseudo.get("focal_scale", (1.0, 2.0))],
            "elevation": [float(e) for e in elevation]}
