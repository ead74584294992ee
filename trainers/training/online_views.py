"""Online pseudo data: the teacher renders fresh random views (colour and depth) into a ring buffer while the student
trains."""

from __future__ import annotations

import torch

from r2l_viewer.core.datasets import SceneMeta
from r2l_viewer.core.render import StopFlag

from trainers.configs import PseudoConfig
from trainers.events import to_preview
from trainers.training.views import ArrayViews, render_pseudo_view


class OnlineViews(ArrayViews):
    """A ring buffer of `capacity` teacher views; `refresh` replaces the oldest with a new one. Nothing on disk.

    View k is the same as pseudo view k on disk (same seed), so a resumed run rebuilds the buffer exactly. Filling
    it stops between render chunks when `stop` is set (RenderInterrupted)."""

    def __init__(self, teacher, meta: SceneMeta, pseudo: PseudoConfig, seed: int, capacity: int, next_index: int = 0,
                 stop: StopFlag = None, chunk: int | None = None):
        self.teacher, self.meta, self.pseudo, self.seed, self.chunk = teacher, meta, pseudo, seed, chunk
        h, w = meta.intrinsics.height, meta.intrinsics.width
        super().__init__(torch.zeros(capacity, h, w, 3, dtype=torch.uint8), torch.eye(4).repeat(capacity, 1, 1),
                         torch.full((capacity,), meta.intrinsics.fx), torch.zeros(capacity, h, w, dtype=torch.float16))
        self.capacity = capacity
        self.next_index = max(0, next_index - capacity)
        while self.next_index < next_index or self.next_index < capacity:
            self.refresh(stop)

    def refresh(self, stop: StopFlag = None) -> None:
        """Render the next view into the slot of the oldest one; a stop during the render changes nothing."""
        rgb, depth, pose, focal = render_pseudo_view(self.teacher, self.meta, self.pseudo, self.seed,
                                                     self.next_index, stop, self.chunk)
        slot = self.next_index % self.capacity
        self.rgb[slot] = torch.from_numpy(to_preview(rgb))
        self.depth[slot] = depth.to(torch.float16)  # as pseudo data on disk holds it
        self.poses[slot] = pose
        self.focals[slot] = focal
        self.next_index += 1
