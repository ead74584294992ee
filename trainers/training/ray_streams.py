"""Ray streams: a step's batch drawn from S independent random streams, each with its own hard-example pool.

A student step draws `batch_rays` fresh rays (plus `hard_rays` from the hard-example pool) and jitters each ray's
points, all from a seeded random stream. To spread that batch over N ranks the batch is split into S streams of
batch_rays / S rays, and rank r of N draws streams r*S/N to (r+1)*S/N - 1. Each stream has its own generator, seeded
from the run seed and the stream's number, and its own pool, so which rays a stream draws does not depend on which
process draws them: a run with S streams follows the same schedule and draws the same rays on 1 process or on any N
that divides S (only the order of float additions differs). By default S is the number of ranks (1 without
torchrun: stream 0 is seeded with the run seed itself, so a one-process run draws exactly what it always drew).
Batch and hard-example counts must divide evenly by S, so every rank does the same work and the same number of
collectives per step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from trainers.training.hard_examples import HardExamplePool
from trainers.errors import JobError

POOL_BATCHES = 8  # a stream's hard-example pool holds this many batches' worth of its hard rays


def stream_seed(seed: int, index: int) -> int:
    """The seed of ray stream `index`: the run seed for stream 0; for the others a seed derived from (seed, index)
    by numpy's SeedSequence, whose child streams are independent of each other."""
    if index == 0:
        return int(seed)
    state = np.random.SeedSequence(int(seed) & (2**63 - 1), spawn_key=(index,)).generate_state(2, np.uint32)
    return int(state[0]) << 32 | int(state[1])


@dataclass
class RayStream:
    """One stream: its number, its random generator and its hard-example pool."""

    index: int
    generator: torch.Generator
    pool: HardExamplePool

    def state(self) -> dict:
        return {"generator": self.generator.get_state(), "pool": self.pool.state_dict()}

    def load(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.pool.load_state_dict(state["pool"])


def stream_count(configured: int, saved: int | None, world: int, flag: str) -> int:
    """How many streams a run uses: the configured number (`flag`), else the interrupted run's (when resuming),
    else one per rank. It must be a multiple of the number of ranks."""
    count = configured or saved or world
    if count % world:
        origin = "the interrupted run was saved with" if not configured else f"{flag} gives"
        raise JobError(f"{origin} {count} ray streams, which {world} ranks cannot share evenly: run on a number of "
                       f"ranks that divides {count}")
    return count


def per_stream(total: int, streams: int, flag: str) -> int:
    """A batch count's share per stream; it must divide evenly, so every rank does the same work."""
    if total % streams:
        raise JobError(f"{flag} {total} does not split evenly over {streams} ray streams (one per rank by default): "
                       f"give a multiple of {streams}")
    return total // streams


def make_streams(seed: int, count: int, rank: int, world: int, hard_rays: int,
                 first_generator: torch.Generator) -> list[RayStream]:
    """The streams this rank draws (of `count` in all), with empty pools sized for `hard_rays` per stream. Stream 0
    uses `first_generator` (the job's own, seeded with the run seed)."""
    share = count // world
    streams = []
    for index in range(rank * share, (rank + 1) * share):
        generator = first_generator if index == 0 else torch.Generator().manual_seed(stream_seed(seed, index))
        streams.append(RayStream(index, generator, HardExamplePool(hard_rays * POOL_BATCHES if hard_rays else 0)))
    return streams


def saved_streams(state: dict) -> list[dict]:
    """Every stream's saved state from a resume state (states saved with one stream keep it in 'generator' and
    'pool')."""
    return state.get("streams") or [{"generator": state["generator"], "pool": state["pool"]}]
