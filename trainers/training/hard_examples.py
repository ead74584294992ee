"""Hard-example mining (R2L): the worst rays of each batch go into a pool; later batches draw extra rays from it."""

from __future__ import annotations

import torch

from trainers.training.views import RayBatch


class HardExamplePool:
    """A ring buffer of the rays the student got most wrong."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.origins = torch.empty(0, 3)
        self.directions = torch.empty(0, 3)
        self.rgb = torch.empty(0, 3)
        self.cursor = 0

    def __len__(self) -> int:
        return self.origins.shape[0]

    def add(self, batch: RayBatch, errors: torch.Tensor, fraction: float) -> None:
        """Keep the `fraction` of the batch with the largest errors [n]."""
        count = int(len(batch) * fraction)
        if count == 0 or self.capacity == 0:
            return
        worst = errors.detach().topk(min(count, len(batch))).indices.cpu()
        picked = batch.select(worst.to(batch.origins.device))
        # at most `capacity` rows (the worst first: topk is sorted), so no ring position is written twice at once
        rows = [t.detach().cpu()[: self.capacity] for t in (picked.origins, picked.directions, picked.rgb)]
        if len(self) < self.capacity:
            room = self.capacity - len(self)
            self.origins = torch.cat([self.origins, rows[0][:room]])
            self.directions = torch.cat([self.directions, rows[1][:room]])
            self.rgb = torch.cat([self.rgb, rows[2][:room]])
            rows = [r[room:] for r in rows]
        n = rows[0].shape[0]
        if n:  # the rest overwrite the oldest entries, in ring order
            idx = (self.cursor + torch.arange(n)) % self.capacity
            self.origins[idx], self.directions[idx], self.rgb[idx] = rows
            self.cursor = int((self.cursor + n) % self.capacity)

    def sample(self, n: int, generator: torch.Generator) -> RayBatch | None:
        """n rays drawn at random from the pool (None while it is empty)."""
        if len(self) == 0 or n == 0:
            return None
        idx = torch.randint(0, len(self), (n,), generator=generator)
        return RayBatch(self.origins[idx], self.directions[idx], self.rgb[idx])

    def state_dict(self) -> dict:
        return {"origins": self.origins, "directions": self.directions, "rgb": self.rgb, "cursor": self.cursor}

    def load_state_dict(self, state: dict) -> None:
        self.origins, self.directions, self.rgb = state["origins"], state["directions"], state["rgb"]
        self.cursor = int(state["cursor"])
