"""Issue 5's speed and size targets checked against one `r2l-bench` run: each met, missed, or not measured here."""

from __future__ import annotations

import operator

OPERATORS = {">=": operator.ge, "<=": operator.le, "<": operator.lt}

CPU_TARGETS = (
    ("paper student's speed-up over the vanilla NeRF per frame, fastest path against fastest path",
     "speedup_vs_nerf", ">=", 26.0, "x"),
    ("paper student's fastest path: share of its own matmul ceiling (its layer shapes, rays per call and threads)",
     "student_matmul_fraction", ">=", 0.70, "share"),
    ("tiny student, one 200x200 frame on the viewer's CPU path (10 FPS; the window adds its own cost, "
     "see orbit_bench)", "tiny_200_ms", "<=", 100.0, "ms"),
    ("the tiny student is smaller on disk than the grid teacher (its weights in the scene checkpoint, as a share of "
     "the teacher's)", "tiny_bytes_share", "<", 1.0, "share"),
    ("the tiny student renders a 100x100 frame at least 2x faster than the grid teacher on this CPU (its fastest "
     "path)", "tiny_100_speedup_vs_grid", ">=", 2.0, "x"),
)
CUDA_TARGETS = (
    ("paper student renders 400x400", "paper_400_ms", "<=", 5.0, "ms"),
    ("distillation training throughput, paper student", "distill_rays_per_s", ">=", 5e6, "rays/s"),
    ("pseudo data from the grid teacher at 400x400", "pseudo_400_images_per_s", ">=", 100.0, "images/s"),
    ("bf16 rendering changes PSNR by at most", "bf16_psnr_change_db", "<=", 0.05, "dB"),
)


def measured_values(result: dict) -> dict:
    """The figures the targets are about, taken out of a bench result (absent when not measured)."""
    values = {k: result.get(k) for k in ("speedup_vs_nerf", "student_matmul_fraction")}
    tiny = result.get("student_tiny_paths", {}).get("200")
    if tiny:
        values["tiny_200_ms"] = min(tiny.values())
    sizes = result.get("student_tiny_model", {}).get("bytes_on_disk", {})
    if sizes.get("student_tiny") and sizes.get("grid"):
        values["tiny_bytes_share"] = sizes["student_tiny"] / sizes["grid"]
    tiny_ms = tiny_fastest_ms(result, "100")
    grid_ms = result.get("renders", {}).get("grid", {}).get("frames", {}).get("100", {}).get("ms_per_frame")
    if tiny_ms and grid_ms:
        values["tiny_100_speedup_vs_grid"] = grid_ms / tiny_ms
    at_400 = result.get("student_paper_variants", {}).get("400", {})
    times = [row["ms_per_frame"] for row in at_400.values() if "ms_per_frame" in row]
    if times:
        values["paper_400_ms"] = min(times)
    training = result.get("training", {})
    rates = [t["step_rays_per_s"] for name, t in training.items() if name.startswith("student_paper")]
    if rates:
        values["distill_rays_per_s"] = max(rates)
    if result.get("pseudo_resolution") == [400, 400]:
        values["pseudo_400_images_per_s"] = result.get("pseudo_images_per_s")
    if "precision_change" in result:
        values["bf16_psnr_change_db"] = abs(result["precision_change"]["psnr_change_db"])
    return values


def tiny_fastest_ms(result: dict, res: str) -> float | None:
    """The tiny student's fastest ms per frame at `res`: its plain render or a viewer CPU path (None: not measured)."""
    plain = result.get("renders", {}).get("student_tiny", {}).get("frames", {}).get(res, {}).get("ms_per_frame")
    times = list(result.get("student_tiny_paths", {}).get(res, {}).values()) + ([plain] if plain else [])
    return min(times) if times else None


def check_targets(result: dict, device) -> list[dict]:
    """One row per target of this device type: what it asks, what was measured, and whether it is met."""
    values = measured_values(result)
    errors = {"student_matmul_fraction": result.get("student_matmul_error")}
    if (values.get("student_matmul_fraction") or 0.0) > 1.0 and not errors["student_matmul_fraction"]:
        errors["student_matmul_fraction"] = "a share above its own ceiling"
    rows = []
    for text, key, op, goal, unit in (CUDA_TARGETS if device.type == "cuda" else CPU_TARGETS):
        value = values.get(key)
        met = None if value is None else OPERATORS[op](value, goal)
        rows.append({"target": text, "key": key, "goal": f"{op} {format_value(goal, unit)}",
                     "measured": None if value is None else format_value(value, unit), "met": met})
        if errors.get(key):  # a figure above what is physically possible: neither met nor missed
            rows[-1].update(met=None, measured=None, error=errors[key])
    return rows


def format_value(value: float, unit: str) -> str:
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "x":
        return f"{value:.1f}x"
    if unit in ("rays/s", "images/s"):
        return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"
    return f"{value:.3g} {unit}"


def print_targets(rows: list[dict]) -> None:
    print("targets:")
    for row in rows:
        verdict = "not measured" if row["met"] is None else ("met" if row["met"] else "MISSED")
        if row.get("error"):
            verdict = "MEASUREMENT ERROR"
        measured = row["measured"] or "-"
        print(f"  {verdict:<13}{measured:>18}  (goal {row['goal']})  {row['target']}")
        if row.get("error"):
            print(f"      {row['error']}: the ceiling or the timing is wrong; rerun on a quieter machine")
