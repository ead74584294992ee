"""One run over many processes (torchrun): who is who, the process group, and the few collectives the jobs use.

torchrun starts one process per GPU (or per CPU share) and tells each its RANK, WORLD_SIZE and LOCAL_RANK. `join`
reads them and opens the process group: NCCL when the run's device is CUDA (each rank on the GPU of its local
rank), gloo on a CPU. The jobs' control messages (stop flags, counts, saved states) always go through gloo on the
CPU, so they never wait on a GPU stream and their timeout is honoured on every backend.

Without torchrun a run is one process: `Ranks()` answers every collective locally and nothing of torch.distributed
is touched, so a plain run behaves exactly as it did before this module existed.

Every collective waits at most `timeout_s` for the other ranks. A rank that died or hung turns into `RankLost` on
the others: one line saying so, and the command exits non-zero. Which failures those are is told by the process
group's own signals, never by the words of a message: torch's distributed error types, the collective's timeout
running out, and each rank's heartbeat in the group's store (trainers/heartbeat.py) standing still."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from trainers.heartbeat import Heartbeat
from trainers.errors import JobError

DEFAULT_TIMEOUT_S = 300.0  # the longest one rank waits for the others (rank 0 saving, an uneven validation share)
ENVIRONMENT = ("RANK", "WORLD_SIZE")  # what torchrun (and any env:// launcher) sets for every process
_opened = []  # set once this process has opened a process group (see `end_process`)


class RankLost(JobError):
    """A collective failed: another rank died, hung or left without the others."""


class RankFollows(JobError):
    """Rank 0 failed in work it does alone; the other ranks stop without repeating its message."""


def launched_by_torchrun() -> bool:
    """Whether this process was started by torchrun (or another launcher that sets RANK and WORLD_SIZE)."""
    return all(name in os.environ for name in ENVIRONMENT)


def environment_world_size() -> int:
    """WORLD_SIZE as torchrun set it (1 when not launched by torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1")) if launched_by_torchrun() else 1


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run (rank `rank` of `world`) and the collectives between the ranks. With world 1
    (the default) each collective returns its local value at once."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    timeout_s: float = DEFAULT_TIMEOUT_S
    group: object = None  # the gloo group for control messages (None: the default group)
    heartbeat: Heartbeat | None = None  # this rank's beat in the group's store; it reads the others'

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def leader(self) -> bool:
        """Rank 0: the one that writes the checkpoint, the metrics log and the progress."""
        return self.rank == 0

    @property
    def label(self) -> str:
        return f"rank {self.rank} of {self.world}"

    @contextlib.contextmanager
    def watch(self, what: str):
        """Turn a failed collective inside the block (a dead or hung rank) into one RankLost line."""
        if not self.active:
            yield
            return
        began = time.monotonic()
        try:
            yield
        except (RuntimeError, dist.DistError) as exc:
            if not is_collective_failure(exc, time.monotonic() - began, self.timeout_s, self.heartbeat):
                raise
            raise RankLost(
                f"another rank stopped answering while {what} (it died, hung or failed; waited at "
                f"most {self.timeout_s:g} s): {first_line(exc)}. The run stopped; what rank 0 saved last is kept: "
                "see the other ranks' messages, then run the same command with --resume"
            ) from None

    def agree(self, flag: bool, *values: float) -> tuple[bool, list[float]]:
        """Whether any rank raised its flag, and each value summed over the ranks."""
        if not self.active:
            return bool(flag), [float(v) for v in values]
        with self.watch("agreeing on whether to stop"):
            tensor = torch.tensor([float(bool(flag)), *map(float, values)], dtype=torch.float64)
            dist.all_reduce(tensor, group=self.group)
        return bool(tensor[0] > 0), tensor[1:].tolist()

    def any(self, flag: bool) -> bool:
        """Whether any rank raised its flag (e.g. saw a stop request)."""
        return self.agree(flag)[0]

    def sum(self, values: list[float]) -> list[float]:
        """Each value summed over the ranks."""
        return self.agree(False, *values)[1]

    def gather(self, value) -> list | None:
        """At rank 0: every rank's value (any picklable object), in rank order; None elsewhere."""
        if not self.active:
            return [value]
        out = [None] * self.world if self.leader else None
        with self.watch("collecting the ranks' states"):
            dist.gather_object(value, out, dst=0, group=self.group)
        return out

    def broadcast(self, value):
        """Rank 0's value (any picklable object), on every rank."""
        if not self.active:
            return value
        box = [value if self.leader else None]
        with self.watch("waiting for rank 0"):
            dist.broadcast_object_list(box, src=0, group=self.group)
        return box[0]

    def barrier(self, what: str = "waiting for the other ranks") -> None:
        if self.active:
            with self.watch(what):
                dist.barrier(group=self.group)

    def leader_does(self, work):
        """Run `work()` on rank 0 alone (it writes shared files) while the others wait; every rank gets its result.
        When it fails on rank 0, the others raise RankFollows (rank 0 prints the error)."""
        result, error = None, None
        if self.leader:
            try:
                result = work()
            except Exception as exc:  # told to the others first, then raised here as it was
                error = exc
        failed, result = self.broadcast((error is not None, None if error is not None else result))
        if error is not None:
            raise error
        if failed:
            raise RankFollows("stopped because rank 0 failed (see its message)")
        return result


def first_line(exc: BaseException) -> str:
    """An exception's message reduced to its first sentence, without the source location torch puts in front."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    text = text.split("] ", 1)[1] if text.startswith("[") and "] " in text else text
    return text.split(". ", 1)[0]  # (gloo goes on with advice about hanging workers)


def is_collective_failure(exc: BaseException, waited_s: float, timeout_s: float, heartbeat: Heartbeat | None) -> bool:
    """Whether an error raised while waiting `waited_s` on a collective comes from the process group, told by its
    own signals: torch's distributed error types, the collective's timeout run out, or a peer whose heartbeat
    stopped (or a store that is gone). Any other error, whatever its message says, is itself."""
    if isinstance(exc, dist.DistError) or waited_s >= 0.98 * timeout_s:  # (timers differ by milliseconds)
        return True
    if heartbeat is None:
        return False
    silent = heartbeat.silent_peers()
    return silent is None or bool(silent)


SHARED_JOBS = ("pseudo", "distill", "finetune")  # the jobs whose work the ranks share


def refusal(command: str) -> str:
    """Why a command that runs in one process refuses to start under torchrun, and what to do instead."""
    return (f"`{command}` runs in one process only: under torchrun it would run {environment_world_size()} copies "
            f"side by side. Run `r2l-train {command} ...` without torchrun; torchrun shares out the "
            f"{', '.join(SHARED_JOBS)} jobs: `torchrun --nproc_per_node N -m trainers.cli distill --out SCENE.ckpt ...`")


def program_name(program: str = "r2l-train") -> str:
    """The program's name in messages: with the rank for ranks other than 0 of a torchrun run."""
    rank, world = int(os.environ.get("RANK", "0")), environment_world_size()
    return f"{program} [rank {rank} of {world}]" if world > 1 and rank else program


def device_for_rank(requested: torch.device, local_rank: int) -> torch.device:
    """The device a rank trains on: CUDA's GPU number `local_rank` (one GPU per process), else the CPU."""
    if requested.type != "cuda":
        return requested
    if requested.index is not None and requested.index != local_rank:
        raise JobError(f"--device {requested}: under torchrun each process uses the GPU of its local rank "
                       f"(this one: cuda:{local_rank}); give --device cuda or auto")
    if local_rank >= torch.cuda.device_count():
        raise JobError(f"local rank {local_rank} has no GPU: this machine has {torch.cuda.device_count()}; start at "
                       "most that many processes per node (--nproc_per_node)")
    return torch.device("cuda", local_rank)


def join(requested: torch.device, timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[Ranks, torch.device]:
    """Under torchrun with more than one process: open the process group (NCCL for CUDA, gloo for the CPU) and
    return this rank and its device. Otherwise: Ranks() and the requested device, nothing opened."""
    world = environment_world_size()
    if world == 1:
        return Ranks(), requested
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    device = device_for_rank(requested, local_rank)
    timeout = timedelta(seconds=timeout_s)
    try:
        if device.type == "cuda":
            torch.cuda.set_device(device)
            dist.init_process_group("nccl", timeout=timeout, device_id=device)
            group = dist.new_group(backend="gloo", timeout=timeout)
        else:
            dist.init_process_group("gloo", timeout=timeout)
            group = None
    except (RuntimeError, ValueError, dist.DistError) as exc:
        raise RankLost(f"could not join the other ranks within {timeout_s:g} s "
                       f"({first_line(exc)}); check that every process was started (torchrun --nnodes, "
                       "--rdzv_endpoint) and can reach the endpoint") from None
    _opened.append(True)
    store = dist.PrefixStore("r2l", dist.distributed_c10d._get_default_store())  # the rendezvous' store
    heartbeat = Heartbeat(store, rank, world, store_address())
    return Ranks(rank, world, local_rank, timeout_s, group, heartbeat), device


def store_address() -> tuple[str, int] | None:
    """Where the process group's store is served (torchrun's MASTER_ADDR and MASTER_PORT), if it says."""
    host, port = os.environ.get("MASTER_ADDR"), os.environ.get("MASTER_PORT")
    return (host, int(port)) if host and port and port.isdigit() else None


def opened_a_group() -> bool:
    """Whether this process opened a process group (it is a rank of a torchrun run with several)."""
    return bool(_opened)


def end_process(code: int) -> None:
    """End a torchrun rank's process now, its streams flushed and its process group already closed (`leave`).
    Skipping the interpreter's finalisation avoids a teardown race in gloo's worker threads that aborts about one
    process in thirty ("terminate called without an active exception", seen with torch 2.13 even in a 10-line
    script that destroys its group), which would fail a run that succeeded. Files are all closed by then; the
    checkpoint writes are atomic."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def leave(ranks: Ranks) -> None:
    """Close the process group (also after a failure: a process that exits with a broken group left open aborts)."""
    if ranks.heartbeat is not None:
        ranks.heartbeat.stop()
    if ranks.active and dist.is_initialized():
        with contextlib.suppress(Exception):
            dist.destroy_process_group()
