"""What more distillation time buys: the student's PSNR on all test views against minutes of distillation, one run
per budget from the same teacher and pseudo views: `python -m trainers.bench.learning_curve SCENE --minutes 5,10,20`.

Each budget is a full distillation of its own (the preset's schedule stretched to that many steps, its learning
rate decaying to a tenth at the end, as the preset's does), then the preset's finetune; its step count comes from a
short probe that measures this machine's seconds per step and the job's fixed start-up cost. The wall times printed
are the distill and finetune commands' own, start-up included, under whatever else the machine is running."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from r2l_viewer.core.checkpoint import CheckpointError, load_scene

PROBE_STEPS = 200


TRAIN = [sys.executable, "-m", "trainers.cli"]  # r2l-train and r2l-eval in this Python, as the project's other runners
EVAL = [sys.executable, "-m", "trainers.cli.eval"]


def budget_copy(scene: Path, folder: Path) -> Path:
    """A fresh copy of the teacher-only scene in `folder`, reading the original's pseudo views through a link."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    copy = folder / "scene.ckpt"
    shutil.copy2(scene, copy)
    pseudo = scene.with_name(scene.stem + ".pseudo")
    (folder / "scene.pseudo").symlink_to(pseudo.resolve(), target_is_directory=True)
    return copy


def timed(args: list[str]) -> float:
    """Run an r2l-train job (its output kept out of the table), fail loudly if it fails; its wall time in seconds."""
    start = time.perf_counter()
    done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"r2l-train {args[len(TRAIN)]} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return time.perf_counter() - start


def step_times(metrics_log: Path) -> tuple[int, float] | None:
    """(steps, seconds) between the distill job's first and last progress records in a metrics log (None when it
    holds fewer than two a second apart: a probe too short to time steps apart from the start-up)."""
    records = [json.loads(line) for line in metrics_log.read_text().splitlines() if line.strip()]
    progress = [r for r in records if r.get("stage") == "distill" and r.get("kind") == "progress"]
    if len(progress) < 2 or progress[-1]["step"] == progress[0]["step"]:
        return None
    first, last = progress[0], progress[-1]
    seconds = (datetime.fromisoformat(last["time"]) - datetime.fromisoformat(first["time"])).total_seconds()
    return (last["step"] - first["step"], seconds) if seconds > 0 else None  # (the log's times are whole seconds)


def distill_args(copy: Path, args, steps: int) -> list[str]:
    return [*TRAIN, "distill", "--out", str(copy), "--preset", args.preset, "--quiet", "--force",
            "--distill.steps", str(steps), "--distill.decay_steps", str(steps), *shlex.split(args.distill_args)]


def probe(scene: Path, work: Path, args) -> tuple[float, float]:
    """(seconds per step, seconds of start-up) of distillation on this machine, from a short run."""
    copy = budget_copy(scene, work / "probe")
    wall = timed(distill_args(copy, args, args.probe_steps))
    timing = step_times(copy.with_name("scene.metrics.jsonl"))
    if timing is None:  # the whole run counts as steps: more minutes per step, so no budget overruns
        return wall / args.probe_steps, 0.0
    per_step = timing[1] / timing[0]
    return per_step, max(wall - args.probe_steps * per_step, 0.0)


def evaluate(copy: Path) -> dict:
    """r2l-eval's result on all test views."""
    done = subprocess.run([*EVAL, str(copy), "--split", "test", "--json", "--quiet"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"r2l-eval failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def given_rate(text: str) -> tuple[float, float]:
    """--rate's 'seconds per step,seconds of start-up'."""
    try:
        per_step, startup = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--rate {text}: give seconds per step and seconds of start-up, e.g. 0.09,6") from None
    if per_step <= 0 or startup < 0:
        raise ValueError(f"--rate {text}: seconds per step must be above 0 and the start-up at least 0")
    return per_step, startup


def steps_for(minutes: float, per_step: float, startup: float) -> int:
    """Steps that fill `minutes` of distillation after its start-up (at least one)."""
    return max(int((minutes * 60.0 - startup) / per_step), 1)


def one_budget(scene: Path, work: Path, args, minutes: float, rate: tuple[float, float]) -> dict:
    """Distil (and finetune) a copy for `minutes` of distillation; the figures of one row."""
    steps = steps_for(minutes, *rate)
    copy = budget_copy(scene, work / f"{minutes:g}min")
    row = {"minutes": minutes, "steps": steps, "distill_s": timed(distill_args(copy, args, steps))}
    result = evaluate(copy)
    row |= {"teacher_psnr": result["teacher"]["psnr"], "distilled_psnr": result["student"]["psnr"]}
    if not args.no_finetune:
        row["finetune_s"] = timed([*TRAIN, "finetune", "--out", str(copy), "--preset", args.preset,
                                   "--quiet", *shlex.split(args.finetune_args)])
        row["finetuned_psnr"] = evaluate(copy)["student"]["psnr"]
    return row


def print_row(row: dict) -> None:
    gap = row["teacher_psnr"] - row.get("finetuned_psnr", row["distilled_psnr"])
    finetuned = f"{row['finetuned_psnr']:.2f} dB ({row['finetune_s']:.0f} s)" if "finetuned_psnr" in row else "-"
    print(f"{row['minutes']:>8g} {row['steps']:>8} {row['distill_s']:>10.0f} {row['distilled_psnr']:>10.2f} dB  "
          f"{finetuned:>20} {row['teacher_psnr']:>9.2f} dB {gap:>+7.2f} dB", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainers.bench.learning_curve", description=__doc__)
    p.add_argument("scene", help="a scene checkpoint with a teacher and its pseudo views beside it (<stem>.pseudo)")
    p.add_argument("--minutes", default="5,10,20,40,80", help="distillation budgets in minutes (default 5,10,20,40,80)")
    p.add_argument("--preset", default="tiny", help="the preset whose distill and finetune settings are used")
    p.add_argument("--work", default=None, help="folder for the runs (default: <scene>.curve beside the scene)")
    p.add_argument("--no-finetune", action="store_true", help="evaluate the distilled students only")
    p.add_argument("--probe-steps", type=int, default=PROBE_STEPS, help=f"steps of the timing probe ({PROBE_STEPS})")
    p.add_argument("--rate", default=None, metavar="S,STARTUP",
                   help="seconds per step and of start-up to plan the budgets with, instead of probing (say, a quiet "
                        "2-thread probe's, while the runs themselves go slower beside other work)")
    p.add_argument("--distill-args", default="", help="more options for every distill, e.g. '--distill.batch_rays 8192'")
    p.add_argument("--finetune-args", default="", help="more options for every finetune")
    args = p.parse_args(argv)
    scene = Path(args.scene)
    try:
        if load_scene(scene).teacher is None:
            raise SystemExit(f"{scene}: has no teacher to distil")
        budgets = [float(m) for m in args.minutes.split(",")]
        rate = given_rate(args.rate) if args.rate else None
    except (CheckpointError, ValueError) as exc:
        print(f"learning_curve: {exc}", file=sys.stderr)
        return 2
    if not scene.with_name(scene.stem + ".pseudo").is_dir():
        print(f"{scene}: no pseudo views beside it; run `r2l-train pseudo --out {scene}` first", file=sys.stderr)
        return 2
    work = Path(args.work) if args.work else scene.with_name(scene.stem + ".curve")
    source = "given"
    if rate is None:
        rate, source = probe(scene, work, args), f"{args.probe_steps}-step probe"
    print(f"{os.environ.get('OMP_NUM_THREADS', 'all')} thread(s); budgets planned at {rate[0] * 1000:.0f} ms per "
          f"step and {rate[1]:.0f} s start-up ({source})")
    print(f"{'minutes':>8} {'steps':>8} {'distill s':>10} {'distilled':>13}  {'finetuned':>20} {'teacher':>12} "
          f"{'gap':>10}")
    for minutes in budgets:
        row = one_budget(scene, work, args, minutes, rate)
        print_row(row)
        print(json.dumps(row), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
