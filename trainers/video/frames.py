"""One frame of a video: a model's view rendered (the CPU's fused student path where it applies), its depth
coloured, and models put side by side with their names written on them."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from r2l_viewer.core.cameras import Intrinsics
from r2l_viewer.core.chunk_team import TEAM_CHUNK, map_chunks, shared_cpu_team
from r2l_viewer.core.fast_student import fast_path
from r2l_viewer.core.models.base import RenderOutput
from r2l_viewer.core.rays import camera_rays
from r2l_viewer.core.render import RenderInterrupted, StopFlag, model_device, render_image, \
    stop_requested

from trainers.training.responsive import rays_per_call

LABEL_MARGIN = 0.02  # of the frame's height, around and inside the name box


class FrameRenderer:
    """Renders one model's views. Colour-only frames of a student on a CPU take the fused inference path
    (r2l_viewer/core/fast_student.py, the viewer's) spread over one single-threaded worker per core; everything
    else renders with the model's own forward in chunks small enough to stop within a second."""

    def __init__(self, model: torch.nn.Module, colour_only: bool, chunk: int):
        self.model = model
        self.device = model_device(model)
        self.fast = fast_path(model) if colour_only and self.device.type == "cpu" else None
        self.team = shared_cpu_team() if self.fast is not None else None
        self.chunk = TEAM_CHUNK if self.fast is not None else rays_per_call(model, self.device, chunk)

    def __call__(self, c2w: torch.Tensor, intrinsics: Intrinsics, stop: StopFlag = None) -> RenderOutput:
        """rgb [H, W, 3] (and depth, opacity [H, W] where the model gives them) on the CPU; RenderInterrupted when
        `stop` is set between chunks."""
        c2w = c2w.float()  # (paths hold float64 poses; the models take float32 rays)
        if self.fast is None:
            return render_image(self.model, c2w, intrinsics, self.chunk, stop=stop)
        origins, directions = (v.reshape(-1, 3) for v in camera_rays(c2w.to(self.device), intrinsics))
        chunk = self.chunk
        call = lambda start: self.fast(origins[start : start + chunk], directions[start : start + chunk])  # noqa: E731
        parts = map_chunks(call, range(0, origins.shape[0], chunk), lambda: stop_requested(stop), self.team)
        if parts is None:
            raise RenderInterrupted("render stopped")
        return RenderOutput(rgb=torch.cat(parts).reshape(intrinsics.height, intrinsics.width, 3).cpu())


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """A float image [H, W, 3] in [0, 1] as uint8."""
    return (image.detach().float().clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8).cpu().numpy()


def font_for(height: int) -> ImageFont.ImageFont:
    """A font about 1/18 of a frame's height (at least 10 pixels): Pillow's own, nothing from the system."""
    try:
        return ImageFont.load_default(size=max(10, height // 18))
    except TypeError:  # Pillow without FreeType: its small bitmap font
        return ImageFont.load_default()


def labelled(frame: np.ndarray, text: str) -> np.ndarray:
    """The frame with `text` in white on a dark box in its top-left corner."""
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image, "RGBA")
    font = font_for(frame.shape[0])
    margin = max(2, round(frame.shape[0] * LABEL_MARGIN))
    left, top, right, bottom = draw.textbbox((2 * margin, 2 * margin), text, font=font)
    draw.rectangle((left - margin, top - margin, right + margin, bottom + margin), fill=(0, 0, 0, 160))
    draw.text((2 * margin, 2 * margin), text, font=font, fill=(255, 255, 255, 255))
    return np.asarray(image)


def side_by_side(frames: list[np.ndarray], labels: list[str]) -> np.ndarray:
    """Frames of the same height next to each other, each with its name; a single frame stays unlabelled."""
    if len(frames) == 1:
        return frames[0]
    return np.concatenate([labelled(frame, text) for frame, text in zip(frames, labels)], axis=1)
