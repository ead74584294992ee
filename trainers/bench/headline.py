"""`r2l-bench`'s headline: the paper student's fastest path with its share of its own matmul ceiling, and its
speed-up over the vanilla NeRF on equal terms (plain forward against plain forward, fastest path against fastest
path; every path's rays are made before its timer starts)."""

from __future__ import annotations

from trainers.bench.ceiling import share_of_ceiling

BF16_PSNR_LIMIT = 0.05  # dB: a bf16 path counts for the headline only if it changes the PSNR by at most this
FASTER_PATHS = (("fused_cpu", "fused CPU path (r2l_viewer/core/fast_student.py)"),
                ("fused_cpu_team", "fused CPU path on single-threaded workers (r2l_viewer/core/chunk_team.py)"))
PLAIN_STUDENT, PLAIN_NERF = "Student.forward", "VanillaNerf.forward"
NERF_TEAM = "VanillaNerf.forward on single-threaded workers (r2l_viewer/core/chunk_team.py)"
RAYS_NOTE = "rays made before the timer starts, for every path"


def headline_candidates(renders: dict, variants: dict, res: int, bf16_ok: bool):
    """(label, row, bf16?) of each of the paper student's render paths measured at `res`; each row holds its
    ms per frame and, where measured, its FLOP/s and ceiling."""
    plain = renders["student_paper"]["frames"].get(str(res), {})
    if "ms_per_frame" in plain:
        yield PLAIN_STUDENT, plain, False
    for key, label in FASTER_PATHS:
        row = variants.get(key, {}).get(str(res))
        if row:
            yield label, row, False
    for key, row in variants.get(str(res), {}).items():  # CUDA: fp32, bf16, bf16 in a CUDA graph
        if "ms_per_frame" in row and (row["precision"] == "fp32" or bf16_ok):
            yield f"{key} (r2l_viewer/core/static_render.py)", row, row["precision"] == "bf16"


def choose_headline(result: dict, renders: dict, variants: dict, res: int, with_nerf: bool) -> None:
    """The headline is the paper student's fastest path (bf16 ones only when bf16 changes the paper network's own
    PSNR by at most BF16_PSNR_LIMIT), with its achieved FLOP/s beside its own ceiling; a share above 100% is put
    down as a measurement error, never as a share. With the NeRF measured, both speed-up rows."""
    change = result.get("paper_bf16", {}).get("psnr_change_db")
    bf16_ok = change is not None and abs(change) <= BF16_PSNR_LIMIT
    candidates = list(headline_candidates(renders, variants, res, bf16_ok))
    if not candidates:
        result["headline_path"], result["headline_precision"] = PLAIN_STUDENT, "fp32"
        return
    label, row, bf16 = min(candidates, key=lambda c: c[1]["ms_per_frame"])
    result["headline_path"], result["headline_precision"] = label, "bf16" if bf16 else "fp32"
    result["headline_ms_per_frame"] = row["ms_per_frame"]
    if "ceiling_flops_per_s" in row:
        share = share_of_ceiling(row["flops_per_s"], row["ceiling_flops_per_s"])
        result["headline_flops_per_s"], result["headline_ceiling_flops_per_s"] = share["flops_per_s"], \
            share["ceiling_flops_per_s"]
        result["student_matmul_fraction"] = share.get("matmul_fraction")
        if "measurement_error" in share:
            result["student_matmul_error"] = share["measurement_error"]
    if with_nerf:
        result["speedup_rows"] = speedup_rows(renders, res, (label, row["ms_per_frame"]))
        result["speedup_vs_nerf"] = result["speedup_rows"]["fastest"]["speedup"]


def speedup_rows(renders: dict, res: int, student_fastest: tuple[str, float]) -> dict:
    """Plain forward against plain forward, and each model's fastest path against the other's, at `res`."""
    nerf = renders["nerf"]["frames"][str(res)]
    plain = renders["student_paper"]["frames"][str(res)]["ms_per_frame"]
    nerf_paths = [(PLAIN_NERF, nerf["ms_per_frame"])]
    if "team_ms_per_frame" in nerf:
        nerf_paths.append((NERF_TEAM, nerf["team_ms_per_frame"]))
    nerf_fastest = min(nerf_paths, key=lambda p: p[1])
    return {"plain": speedup_row(PLAIN_STUDENT, plain, PLAIN_NERF, nerf["ms_per_frame"], res),
            "fastest": speedup_row(*student_fastest, *nerf_fastest, res)}


def speedup_row(student_path: str, student_ms: float, nerf_path: str, nerf_ms: float, res: int) -> dict:
    return {"resolution": [res, res], "student_path": student_path, "student_ms_per_frame": student_ms,
            "nerf_path": nerf_path, "nerf_ms_per_frame": nerf_ms, "speedup": nerf_ms / student_ms,
            "rays": RAYS_NOTE}
