"""Building and updating the scene checkpoint from jobs: a new scene from a dataset, model entries, history."""

from __future__ import annotations

import time

from r2l_viewer.core.checkpoint import SceneCheckpoint
from r2l_viewer.core.datasets import Dataset
from r2l_viewer.core.models import model_record


def new_scene(dataset: Dataset) -> SceneCheckpoint:
    """An empty scene for a dataset: its metadata and the poses of the splits loaded."""
    cameras = {name: split.poses.clone() for name, split in dataset.splits.items()}
    return SceneCheckpoint(meta=dataset.meta, cameras=cameras)


def model_entry(model, **info) -> dict:
    """A model record with job information (step, complete, stage, ids, timings), plain values only."""
    return model_record(model) | {k: v for k, v in info.items() if v is not None}


def add_history(scene: SceneCheckpoint, stage: str, step: int, metrics: dict, **extra) -> None:
    """Append one metrics record (newest last)."""
    record = {"stage": stage, "step": int(step), "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    record.update({k: float(v) for k, v in metrics.items()})
    record.update(extra)
    scene.history.append(record)

