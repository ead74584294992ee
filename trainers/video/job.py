"""Job: render a camera path with the student, the teacher or both side by side into an mp4 or a folder of PNGs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from r2l_viewer.core.camera_path import CameraPath, frame_intrinsics
from r2l_viewer.core.camera_path_json import load_camera_path
from r2l_viewer.core.checkpoint import SceneCheckpoint
from r2l_viewer.core.colormap import depth_image, depth_range
from r2l_viewer.core.config import validate
from r2l_viewer.core.finite import check_finite_image
from r2l_viewer.core.model_text import stage_text
from r2l_viewer.core.render import RenderInterrupted, gives_depth
from r2l_viewer.core.standard_paths import standard_path, standard_path_name

from trainers.configs import VideoConfig
from trainers.events import DONE, LOG, PROGRESS, STOPPED, Event, RateMeter, small_preview
from trainers.video.files import check_output, open_writer
from trainers.video.frames import FrameRenderer, side_by_side, to_uint8
from trainers.errors import JobError
from trainers.storage.workspace import RunContext

STAGE = "video"
BUILT_IN = "orbit"
PREVIEW_SECONDS = 2.0
ROLES = {"student": ("student",), "teacher": ("teacher",), "both": ("teacher", "student")}


def path_for(config: VideoConfig, scene: SceneCheckpoint) -> CameraPath:
    """The camera path a config names: the scene's standard path, or a nerfstudio camera-path file."""
    if config.path.strip().lower() == BUILT_IN:
        return standard_path(scene.meta, scene.cameras)
    return load_camera_path(config.path)


def path_text(config: VideoConfig, scene: SceneCheckpoint, given: bool) -> str:
    if given:
        return "the viewer's camera path"
    if config.path.strip().lower() != BUILT_IN:
        return Path(config.path).name
    return "the scene's " + standard_path_name(scene.meta)


class RenderVideo:
    """The video job: `run()` yields a LOG line, a PROGRESS event per frame and ends with DONE (metrics: out,
    frames, fps, size, seconds_per_frame) or STOPPED. Everything it could refuse (no such model, no depth, a bad
    path file, an output it must not replace) is refused before the first frame; its output appears under its
    name only when complete. `camera_path` (the viewer's) stands in for `config.path` when given."""

    stage = STAGE

    def __init__(self, config: VideoConfig, ctx: RunContext, camera_path: CameraPath | None = None):
        validate(config)
        if not config.out:
            raise JobError("no output given: name a .mp4 file, or a folder for PNG frames (--out)")
        if camera_path is None and not config.path.strip():
            raise JobError("no camera path given: 'orbit' (the scene's standard path) or a nerfstudio .json file")
        if config.size is not None and any(int(v) != v for v in config.size):
            raise JobError(f"size {config.size}: give whole numbers of pixels, such as 400x400")
        self.config, self.ctx, self.given_path = config, ctx, camera_path

    def run(self) -> Iterator[Event]:
        cfg, out = self.config, Path(self.config.out)
        scene = self._scene()
        path = self.given_path or path_for(cfg, scene)
        path.check_playable()
        kind = check_output(out, cfg.overwrite)
        renderers, labels = self._renderers(scene)
        frames = path.frames()
        width, height = (int(v) for v in cfg.size) if cfg.size else (path.width, path.height)
        fps = float(cfg.fps or path.fps)
        what = path_text(cfg, scene, self.given_path is not None)
        yield Event(STAGE, LOG, 0, len(frames), message=f"{len(frames)} frames of {what} at {width}x{height}, "
                    f"{fps:g} fps: {' and '.join(labels)}, {cfg.output} -> {out}"
                    + padding_note(kind, width * len(renderers), height))
        writer = open_writer(out, kind, fps, cfg.quality)
        try:
            yield from self._render_all(frames, renderers, labels, (width, height), writer, scene)
            writer.finish()
        except RenderInterrupted:
            writer.abort()
            yield Event(STAGE, STOPPED, self.done, len(frames),
                        message=f"stopped at frame {self.done} of {len(frames)}; nothing was written to {out}")
            return
        except BaseException:
            writer.abort()
            raise
        seconds = (time.perf_counter() - self.started) / max(len(frames), 1)
        metrics = {"out": str(out), "frames": len(frames), "fps": fps, "size": [width, height],
                   "seconds_per_frame": seconds, "models": list(labels)}
        yield Event(STAGE, DONE, len(frames), len(frames), metrics=metrics,
                    message=f"wrote {out} ({len(frames)} frames, {seconds:.2f} s per frame)")

    def _scene(self) -> SceneCheckpoint:
        scene = self.ctx.scene()
        if scene is None:
            raise JobError(f"{self.ctx.workspace.checkpoint}: no such scene checkpoint")
        return scene

    def _renderers(self, scene: SceneCheckpoint) -> tuple[list[FrameRenderer], list[str]]:
        """A renderer per model asked for, in order (teacher left of student), with its name for the frame."""
        device, renderers, labels = self.ctx.torch_device, [], []
        for role in ROLES[self.config.model]:
            record = getattr(scene, role)
            if record is None:
                other = "teacher" if role == "student" else "student"
                raise JobError(f"{scene.origin}: has no {role}; render the {other} (--model {other}) or train "
                               f"one first ({'r2l-train distill' if role == 'student' else 'r2l-train teacher'})")
            model = scene.build_student(device) if role == "student" else scene.build_teacher(device)
            if self.config.output == "depth" and not gives_depth(model):
                raise JobError(f"{scene.origin}: its {role} gives no depth (a student gives depth only when "
                               "distilled with --distill.student.depth true); render --output rgb, or the teacher's "
                               "depth (--model teacher)")
            renderers.append(FrameRenderer(model, self.config.output == "rgb", self.config.chunk))
            labels.append(_label(role, record))
        return renderers, labels

    def _render_all(self, frames, renderers, labels, size, writer, scene) -> Iterator[Event]:
        stop, meter, total = self.ctx.stop, RateMeter(0.7), len(frames)
        self.done, self.started, last_preview, self.depth_span = 0, time.perf_counter(), 0.0, None
        for frame in frames:
            if stop.is_set():
                raise RenderInterrupted("video stopped")
            intrinsics = frame_intrinsics(frame.fov, *size)
            images = [self._image(render(frame.c2w, intrinsics, stop), scene, label)
                      for render, label in zip(renderers, labels)]
            picture = side_by_side(images, labels)
            writer.write(picture)
            self.done += 1
            meter.update(1)
            preview = None
            if time.monotonic() - last_preview > PREVIEW_SECONDS:
                preview, last_preview = small_preview(picture.astype(np.float32) / 255.0), time.monotonic()
            yield Event(STAGE, PROGRESS, self.done, total, eta_s=meter.eta(total - self.done), preview=preview,
                        message=f"frame {self.done} of {total}")

    def _image(self, rendered, scene: SceneCheckpoint, label: str) -> np.ndarray:
        """A rendered view as a uint8 frame; one with NaN or Inf pixels stops the job before it is written."""
        what = f"{scene.origin}: frame {self.done + 1} of {label}"
        check_finite_image(rendered.rgb if self.config.output == "rgb" else rendered.depth, what)
        if self.config.output == "rgb":
            return to_uint8(rendered.rgb)
        bounds = scene.meta.model_bounds()
        if self.depth_span is None:  # the first frame's surfaces set the colours of the whole video
            self.depth_span = depth_range(rendered.depth, bounds["far"], rendered.opacity)
        return to_uint8(depth_image(rendered.depth, *self.depth_span, rendered.opacity, bounds["background"]))


def padding_note(kind: str, width: int, height: int) -> str:
    """A note when an mp4's frames get a row or column more (H.264 in yuv420p needs even sides)."""
    if kind != "mp4" or (width % 2 == 0 and height % 2 == 0):
        return ""
    return f" (frames padded to {width + width % 2}x{height + height % 2}: H.264 needs even sides)"


def _label(role: str, record: dict) -> str:
    if role == "teacher":
        return f"Teacher ({record.get('kind', '?')})"
    stage = stage_text(record)
    return f"Student ({stage})" if stage else "Student"
