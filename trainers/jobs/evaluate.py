"""Job: evaluate teacher and student against a split's real images (PSNR, SSIM, latency, FLOPs, size), and a
student's depth against the teacher's; save PNGs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from r2l_viewer.core.colormap import error_image
from r2l_viewer.core.config import validate
from r2l_viewer.core.datasets import Split
from r2l_viewer.core.device import describe_device
from r2l_viewer.core.finite import check_finite_image, check_finite_metric
from r2l_viewer.core.image_files import write_png
from r2l_viewer.core.metrics import psnr, scene_flops_per_ray, ssim
from r2l_viewer.core.model_text import saved_bytes, student_encoding_text
from r2l_viewer.core.models import parameter_count
from r2l_viewer.core.models import RenderOutput
from r2l_viewer.core.render import RenderInterrupted, StopFlag, render_image

from trainers.configs import EvalConfig
from trainers.jobs.depth_eval import depth_comparison, save_depth_maps
from trainers.events import DONE, LOG, PROGRESS, STOPPED, Event, small_preview, to_preview
from trainers.training.responsive import rays_per_call
from trainers.errors import JobError
from trainers.storage.workspace import RunContext

STAGE = "evaluate"
PREVIEW_SECONDS = 2.0


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_render(model, pose, intrinsics, chunk: int, device, stop: StopFlag = None) -> tuple[RenderOutput, float]:
    """Render one view; returns (rgb [H, W, 3] and depth [H, W] or None, on the CPU; milliseconds of rendering)."""
    _synchronize(device)
    start = time.perf_counter()
    out = render_image(model, pose.to(device), intrinsics, chunk, out_device=None, stop=stop)
    _synchronize(device)
    ms = (time.perf_counter() - start) * 1000.0
    return RenderOutput(rgb=out.rgb.cpu(), depth=None if out.depth is None else out.depth.cpu()), ms


def encoding_metrics(record: dict) -> dict:
    """A student's encoding for the result: its name and its shape in words."""
    config = record.get("config", {})
    return {"encoding": config.get("encoding", "frequency"), "encoding_text": student_encoding_text(config)}


class Evaluate:
    """The evaluation job: `run()` yields a progress event per view rendered and ends with DONE, whose `metrics`
    hold the result (for `teacher` and `student`: psnr, ssim, ms_per_frame, flops_per_ray, params, bytes,
    resolution, images, kind; the student's also stage, encoding, encoding_text and depth; `student_vs_teacher`;
    and for a student with depth `depth`: its error against the teacher's, see depth_comparison).
    It reads the scene and writes only PNGs, when asked."""

    stage = STAGE

    def __init__(self, config: EvalConfig, ctx: RunContext):
        validate(config)
        self.config, self.ctx = config, ctx

    def model_snapshot(self) -> dict | None:
        return None

    def run(self) -> Iterator[Event]:
        cfg, ctx = self.config, self.ctx
        scene = ctx.scene()
        if scene is None:
            raise JobError(f"{ctx.workspace.checkpoint}: no such scene checkpoint")
        save_dir = self._save_dir()
        split = ctx.dataset((cfg.split,)).split(cfg.split)
        self.split, self.device, self.scene = split, ctx.torch_device, scene
        self.views = list(range(len(split) if not cfg.limit else min(cfg.limit, len(split))))
        roles = [role for role in ("teacher", "student") if getattr(scene, role) is not None]
        self.total, self.done, self.last_preview = len(roles) * len(self.views), 0, 0.0
        result = {"scene": scene.meta.name, "split": cfg.split, "device": describe_device(self.device)}
        renders: dict[str, list] = {}
        self.depths: dict[str, list] = {}  # depth maps by role, kept only to compare a student's depth
        self.keep_depth = scene.student is not None and bool(scene.student.get("config", {}).get("depth"))
        yield Event(STAGE, LOG, 0, self.total, message=f"{len(self.views)} {cfg.split} views at "
                    f"{split.intrinsics.height}x{split.intrinsics.width}: {' and '.join(roles) or 'no models'}")
        try:
            for role in ("teacher", "student"):
                record = getattr(scene, role)
                if record is None:
                    result[role] = None
                    continue
                model = scene.build_teacher(self.device) if role == "teacher" else scene.build_student(self.device)
                renders[role] = []
                result[role] = yield from self._evaluate(role, model, record, renders[role])
        except RenderInterrupted:
            yield Event(STAGE, STOPPED, self.done, self.total, message=f"stopped after {self.done} renders")
            return
        result.update(self._comparison(result, renders))
        result.update(self._depth_comparison())
        if save_dir is not None:
            save_comparisons(save_dir, split, self.views, renders)
            self._save_depths(save_dir)
            result["saved_to"] = str(save_dir)
        yield Event(STAGE, DONE, self.total, self.total, metrics=result, message=summary_line(result))

    def _save_dir(self) -> Path | None:
        if not self.config.save_dir:
            return None
        folder = Path(self.config.save_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JobError(f"cannot create {folder} ({exc.strerror or exc}); choose another --save folder") from None
        return folder

    def _evaluate(self, role: str, model, record: dict, renders: list) -> Iterator[Event]:
        """Render every view with one model (stop-aware), yielding progress; returns its metrics."""
        cfg, split, stop = self.config, self.split, self.ctx.stop
        first, chunk = self.views[0], rays_per_call(model, self.device, cfg.chunk)
        intr = split.intrinsics
        for _ in range(cfg.warmup):
            timed_render(model, split.poses[first], split.intrinsics_of(first), chunk, self.device, stop)
        times, psnrs, ssims, depths = [], [], [], []
        for i in self.views:
            if stop.is_set():
                raise RenderInterrupted("evaluation stopped")
            out, ms = timed_render(model, split.poses[i], split.intrinsics_of(i), chunk, self.device, stop)
            rgb = out.rgb
            check_finite_image(rgb, f"{self.ctx.workspace.checkpoint}: the {role}'s render of {self._name(i)}")
            renders.append(rgb)
            if out.depth is not None and self.keep_depth:
                check_finite_image(out.depth, f"{self.ctx.workspace.checkpoint}: the {role}'s depth of "
                                   f"{self._name(i)}")
                depths.append(out.depth)
            times.append(ms)
            psnrs.append(psnr(rgb, split.images[i]))
            ssims.append(ssim(rgb, split.images[i]))
            self.done += 1
            yield self._progress(role, i, rgb, psnrs[-1])
        if depths:
            self.depths[role] = depths
        return {
            "psnr": check_finite_metric(statistics.fmean(psnrs), f"the {role}'s PSNR on {cfg.split}"),
            "ssim": statistics.fmean(ssims),
            "ms_per_frame": statistics.median(times),
            "flops_per_ray": scene_flops_per_ray(model, self.scene),
            "params": parameter_count(model),
            "bytes": saved_bytes(record["weights"]),
            "resolution": [intr.height, intr.width],
            "images": len(self.views),
            "kind": record["kind"],
        } | (self._student_facts(record) if role == "student" else {})

    @staticmethod
    def _student_facts(record: dict) -> dict:
        return {"stage": record.get("stage"), "depth": bool(record["config"].get("depth"))} | encoding_metrics(record)

    def _depth_comparison(self) -> dict:
        """The student's depth against the teacher's, when the student carries depth and the scene has a teacher."""
        if "student" not in self.depths or "teacher" not in self.depths:
            return {}
        bounds = self.scene.meta.model_bounds()
        return {"depth": depth_comparison(self.depths["student"], self.depths["teacher"], bounds["near"],
                                          bounds["far"], bounds["ndc"], self.scene.meta.contraction)}

    def _save_depths(self, folder: Path) -> None:
        """Depth maps beside the colour PNGs, for the student when it carries depth (and the teacher's then)."""
        if "student" not in self.depths:
            return
        bounds = self.scene.meta.model_bounds()
        for k, i in enumerate(self.views):
            name = self.split.names[i] if self.split.names else str(i)
            save_depth_maps(folder, name, {role: maps[k] for role, maps in self.depths.items()}, bounds["near"],
                            bounds["far"])

    def _progress(self, role: str, index: int, rgb: torch.Tensor, value: float) -> Event:
        preview = None
        if time.monotonic() - self.last_preview > PREVIEW_SECONDS:
            preview, self.last_preview = small_preview(rgb), time.monotonic()
        return Event(STAGE, PROGRESS, self.done, self.total, psnr=value, preview=preview,
                     message=f"{role} {self._name(index)}")

    def _name(self, index: int) -> str:
        return self.split.names[index] if self.split.names else str(index)

    @staticmethod
    def _comparison(result: dict, renders: dict) -> dict:
        if len(renders) != 2:
            return {}
        t, s = result["teacher"], result["student"]
        return {"student_vs_teacher": {
            "psnr": statistics.fmean(psnr(a, b) for a, b in zip(renders["student"], renders["teacher"])),
            "psnr_gap": t["psnr"] - s["psnr"],
            "speedup": t["ms_per_frame"] / s["ms_per_frame"],
            "flops_ratio": t["flops_per_ray"] / s["flops_per_ray"] if s["flops_per_ray"] else None,
        }}


def summary_line(result: dict) -> str:
    parts = [f"{role} {result[role]['psnr']:.2f} dB" for role in ("teacher", "student") if result.get(role)]
    if result.get("depth"):
        parts.append(f"student depth {result['depth']['mae']:.4f} from the teacher's")
    return "evaluated: " + (", ".join(parts) or "no models")


def save_comparisons(folder: Path, split: Split, views: list[int], renders: dict) -> None:
    """Per view up to four PNGs: `<view>_teacher.png`, `<view>_student.png`, `<view>_truth.png` and
    `<view>_error.png` (a heat map of |student - truth|, or of the teacher when there is no student)."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, i in enumerate(views):
        name = split.names[i] if split.names else str(i)
        truth = split.images[i]
        images = {role: renders[role][k] for role in ("teacher", "student") if role in renders}
        images["truth"] = truth
        worst = renders.get("student", renders.get("teacher"))
        if worst is not None:
            images["error"] = error_image(worst[k], truth)
        for kind, image in images.items():
            write_png(folder / f"{name}_{kind}.png", to_preview(image))
    write_png(folder / CONTACT_SHEET, to_preview(contact_sheet(split, views, renders)))


CONTACT_SHEET = "contact_sheet.png"
SHEET_ROWS = 6  # views on a contact sheet at most, spread over those evaluated
SHEET_GAP = 2  # white pixels between its images


def contact_sheet(split: Split, views: list[int], renders: dict) -> torch.Tensor:
    """One image [H', W', 3] of up to SHEET_ROWS evaluated views, a row each: the real image, then the teacher's and
    the student's renders (those there are), side by side."""
    count = min(SHEET_ROWS, len(views))
    picks = sorted({round(j * (len(views) - 1) / max(count - 1, 1)) for j in range(count)})
    rows = []
    for k in picks:
        images = [split.images[views[k]]] + [renders[role][k] for role in ("teacher", "student") if role in renders]
        gap = torch.ones(images[0].shape[0], SHEET_GAP, 3)
        rows.append(torch.cat([part for image in images for part in (image.float().cpu(), gap)][:-1], dim=1))
    gap = torch.ones(SHEET_GAP, rows[0].shape[1], 3)
    return torch.cat([part for row in rows for part in (row, gap)][:-1], dim=0)
