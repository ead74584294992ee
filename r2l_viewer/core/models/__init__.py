"""The models behind one signature (world rays in; rgb, depth, opacity out) and their plain-dict records."""

from __future__ import annotations

import torch

from ..config import from_dict, to_dict
from ..finite import first_non_finite
from .base import RenderOutput, parameter_count
from .grid import GridConfig, GridTeacher
from .nerf import NerfConfig, VanillaNerf
from .nerf_pytorch import load_nerf_pytorch
from .student import Student, StudentConfig
from ..errors import UserError

MODEL_CLASSES = {"student": (Student, StudentConfig), "nerf": (VanillaNerf, NerfConfig), "grid": (GridTeacher, GridConfig)}
TEACHER_KINDS = ("grid", "nerf")


class ModelRecordError(UserError):
    """A stored model record is incomplete or does not fit its network."""


def build_model(kind: str, config) -> torch.nn.Module:
    """A fresh model of `kind` ('student', 'nerf', 'grid') from its config dataclass or plain dict."""
    if kind not in MODEL_CLASSES:
        raise ModelRecordError(f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_CLASSES)}")
    cls, config_cls = MODEL_CLASSES[kind]
    if isinstance(config, dict):
        config = from_dict(config_cls, config)
    return cls(config)


def model_record(model: torch.nn.Module) -> dict:
    """A model as plain values and CPU tensors: {'kind', 'config', 'weights'}."""
    weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
    return {"kind": model.kind, "config": to_dict(model.config), "weights": weights}


def _check_finite_weights(kind: str, weights: dict) -> None:
    name = first_non_finite(weights) if isinstance(weights, dict) else None
    if name is not None:
        role = "student" if kind == "student" else f"{kind} teacher"
        raise ModelRecordError(f"the {role}'s weights hold non-finite values (NaN or Inf) in {name}: the file is "
                               "damaged or its training diverged; train it again")


def model_from_record(record: dict, device: torch.device | str = "cpu") -> torch.nn.Module:
    """Rebuild a model from `model_record` output, in eval mode on `device`; weights holding NaN or Inf are
    refused."""
    try:
        _check_finite_weights(record["kind"], record["weights"])
        model = build_model(record["kind"], record["config"])
        model.load_state_dict(record["weights"])
    except KeyError as exc:
        raise ModelRecordError(f"model record lacks {exc}") from None
    except RuntimeError as exc:
        raise ModelRecordError(f"{record.get('kind')} weights do not fit its config: {str(exc).splitlines()[0]}") from None
    model = model.to(device).eval()
    if hasattr(model, "update_occupancy"):
        model.update_occupancy()
    return model


__all__ = [
    "RenderOutput", "parameter_count", "GridConfig", "GridTeacher", "NerfConfig", "VanillaNerf", "load_nerf_pytorch",
    "Student", "StudentConfig", "MODEL_CLASSES", "TEACHER_KINDS", "ModelRecordError", "build_model", "model_record",
    "model_from_record",
]
