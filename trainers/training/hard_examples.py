"""Hard-example mining (R2L): the worst rays of each batch go into a pool; later batches draw extra rays from it."""

from __future__ import annotations

import torch

from trainers.training.views import FIELDS, RayBatch


class HardExamplePool:
    """A ring buffer of the rays the student got most wrong (with their target depths when the batches have them)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.origins = torch.empty(0, 3)
        self.directions = torch.empty(0, 3)
        self.rgb = torch.empty(0, 3)
        self.depth: torch.Tensor | None = None
        self.cursor = 0

    def __len__(self) -> int:
        return self.origins.shape[0]

    def _stored(self) -> tuple[str, ...]:
        return FIELDS[:4] if self.depth is not None else FIELDS[:3]

    def add(self, batch: RayBatch, errors: torch.Tensor, fraction: float) -> None:
        """Keep the `fraction` of the batch with the largest errors [n]."""
        count = int(len(batch) * fraction)
        if count == 0 or self.capacity == 0:
            return
        if len(self) == 0 and batch.depth is not None:
            self.depth = torch.empty(0)
        worst = errors.detach().topk(min(count, len(batch))).indices.cpu()
        picked = batch.select(worst.to(batch.origins.device))
        # at most `capacity` rows (the worst first: topk is sorted), so no ring position is written twice at once
        rows = {k: getattr(picked, k).detach().cpu()[: self.capacity] for k in self._stored()}
        if len(self) < self.capacity:
            room = self.capacity - len(self)
            for k, r in rows.items():
                setattr(self, k, torch.cat([getattr(self, k), r[:room]]))
            rows = {k: r[room:] for k, r in rows.items()}
        n = rows["origins"].shape[0]
        if n:  # the rest overwrite the oldest entries, in ring order
            idx = (self.cursor + torch.arange(n)) % self.capacity
            for k, r in rows.items():
                getattr(self, k)[idx] = r
            self.cursor = int((self.cursor + n) % self.capacity)

    def sample(self, n: int, generator: torch.Generator) -> RayBatch | None:
        """n rays drawn at random from the pool (None while it is empty)."""
        if len(self) == 0 or n == 0:
            return None
        idx = torch.randint(0, len(self), (n,), generator=generator)
        return RayBatch(*(getattr(self, k)[idx] for k in self._stored()))

    def state_dict(self) -> dict:
        state = {"origins": self.origins, "directions": self.directions, "rgb": self.rgb, "cursor": self.cursor}
        return state | ({"depth": self.depth} if self.depth is not None else {})

    def load_state_dict(self, state: dict) -> None:
        self.origins, self.directions, self.rgb = state["origins"], state["directions"], state["rgb"]
        self.depth = state.get("depth")  # resume states saved before students had depth hold none
        self.cursor = int(state["cursor"])
