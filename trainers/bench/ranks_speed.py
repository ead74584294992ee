"""Distillation steps on one process against several (torchrun): rays/s at the same global batch, and what the
communication costs.

    python -m trainers.bench.ranks_speed            # 1x1, 1x2 and 2x1 (processes x threads) on this CPU

runs the tiny preset's distillation step (its grid student, 4,096 rays plus 512 hard examples per step) on a
small demo scene made once under runs/bench-ranks/, in three child processes: one process with one thread, one
with two, and two processes with one thread each under torchrun (gloo; each draws half the batch and
DistributedDataParallel averages the gradients). Each child times `--steps` steps after `--warmup`; rank 0 also
times the two kinds of message a step sends: the gradient all-reduce (the student's size, as DDP sends it) and the
small stop-flag agreements (one per micro-batch, one per step and one for the reported loss)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

from trainers.distributed import end_process, join, leave, opened_a_group
from trainers.jobs.distill import Distill
from trainers.presets import get_preset
from trainers.storage.workspace import RunContext, Workspace

DEFAULT_SCENE = Path("runs/bench-ranks/scene.ckpt")
SCENE_JOBS = (  # a demo scene at 100x100 whose teacher is good enough to make pseudo data (speed, not quality)
    ["teacher", "--data", "demo", "--teacher.steps", "300", "--teacher.upsample_steps", "100,200"],
    ["pseudo", "--pseudo.images", "64"],
)
LAYOUTS = (("1 process x 1 thread", 1, 1), ("1 process x 2 threads", 1, 2), ("2 processes x 1 thread", 2, 1))


def make_scene(scene: Path) -> None:
    """The demo scene with a teacher and pseudo data (made once; reused when present)."""
    if (scene.with_name(scene.stem + ".pseudo") / "manifest.json").exists():
        return
    for job in SCENE_JOBS:
        done = subprocess.run([sys.executable, "-m", "trainers.cli", *job, "--out", str(scene), "--quiet"])
        if done.returncode:
            sys.exit(f"ranks_speed: could not make the bench scene ({job[0]} failed)")


def timed_steps(job: Distill, first: int, count: int) -> float:
    """Seconds for `count` steps from step `first`, every rank starting and ending together."""
    job.ctx.ranks.barrier()
    began = time.perf_counter()
    for step in range(first, first + count):
        job.train_step(step)
    job.ctx.ranks.barrier()
    return time.perf_counter() - began


def message_costs(job: Distill, repeats: int = 20) -> dict:
    """Milliseconds of one gradient all-reduce (the student's parameters, fp32) and of one stop-flag agreement."""
    ranks = job.ctx.ranks
    gradients = torch.zeros(sum(p.numel() for p in job.student.parameters()))
    began = time.perf_counter()
    for _ in range(repeats):
        dist.all_reduce(gradients)
    allreduce = (time.perf_counter() - began) / repeats
    began = time.perf_counter()
    for _ in range(repeats * 10):
        ranks.any(False)
    agree = (time.perf_counter() - began) / (repeats * 10)
    per_stream = job.fresh_rays + job.hard_rays
    micro_batches = len(job.streams) * -(-per_stream // job.micro_batch(per_stream))
    return {"allreduce_ms": allreduce * 1e3, "agree_ms": agree * 1e3, "agreements_per_step": micro_batches + 2,
            "gradient_mb": gradients.numel() * 4 / 1e6}


def measure(scene: Path, steps: int, warmup: int) -> dict | None:
    """This process's part of a measurement; rank 0's result (None on the other ranks)."""
    ranks, device = join(torch.device("cpu"))
    try:
        preset = get_preset("tiny")
        ctx = RunContext(Workspace(scene, quiet=True), device=str(device), ranks=ranks)
        job = Distill(preset.distill, ctx, preset.pseudo)
        for _ in job.setup():
            pass
        timed_steps(job, 0, warmup)  # (the hard-example pools fill in the first step)
        seconds = timed_steps(job, warmup, steps)
        rays = preset.distill.batch_rays + preset.distill.hard_rays
        result = {"processes": ranks.world, "threads": torch.get_num_threads(), "steps": steps,
                  "ms_per_step": seconds / steps * 1e3, "rays_per_s": rays * steps / seconds}
        if ranks.active:
            result |= message_costs(job)
        return result if ranks.leader else None
    finally:
        leave(ranks)


def run_layout(scene: Path, processes: int, threads: int, steps: int, warmup: int) -> dict:
    """One layout in child processes (under torchrun when processes > 1); its rank 0's result."""
    args = ["-m", "trainers.bench.ranks_speed", "--measure", "--scene", str(scene), "--steps", str(steps),
            "--warmup", str(warmup)]
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"] if processes > 1 else []
    env = os.environ | {"OMP_NUM_THREADS": str(threads)}
    done = subprocess.run([sys.executable, *launcher, *args], env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"ranks_speed: the {processes} x {threads} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(results: list[tuple[str, dict]], load: float) -> None:
    base = results[0][1]["rays_per_s"]
    print("| layout | ms per step | rays/s | vs 1x1 |")
    print("| --- | --- | --- | --- |")
    for name, r in results:
        print(f"| {name} | {r['ms_per_step']:.1f} | {r['rays_per_s']:,.0f} | {r['rays_per_s'] / base:.2f}x |")
    for name, r in results:
        if "allreduce_ms" in r:
            control = r["agree_ms"] * r["agreements_per_step"]
            print(f"\n{name}: gradient all-reduce {r['allreduce_ms']:.2f} ms ({r['gradient_mb']:.1f} MB), "
                  f"{r['agreements_per_step']} stop-flag agreements x {r['agree_ms']:.3f} ms = {control:.2f} ms "
                  f"per step: {(r['allreduce_ms'] + control) / r['ms_per_step']:.0%} of the step")
    print(f"\nload average before the runs: {load:.2f} (1 min; {os.cpu_count()} cores); torch {torch.__version__}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.bench.ranks_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scene", type=Path, default=DEFAULT_SCENE, help=f"scene to distil (default {DEFAULT_SCENE}, "
                        "made on the demo scene when absent)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per layout (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # (a child: measure and print)
    args = parser.parse_args(argv)
    if args.measure:
        result = measure(args.scene, args.steps, args.warmup)
        if result is not None:
            print(json.dumps(result))
        if opened_a_group():
            end_process(0)
        return 0
    make_scene(args.scene)
    load = os.getloadavg()[0]
    print_table([(name, run_layout(args.scene, p, t, args.steps, args.warmup)) for name, p, t in LAYOUTS], load)
    return 0


if __name__ == "__main__":
    sys.exit(main())
