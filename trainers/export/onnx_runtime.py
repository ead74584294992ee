"""Running an exported student with onnxruntime (CPU): sessions, chunked renders (colour or depth), and the check
against torch."""

from __future__ import annotations

import importlib.util

import numpy as np
import torch

from r2l_viewer.core.rays import camera_rays

TOLERANCE = 1e-4  # largest colour difference allowed between the ONNX graph and the torch student
CHUNK = 8192  # rays per onnxruntime call, as the torch renders take them


def onnxruntime_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def open_session(path, threads: int | None = None):
    """An onnxruntime CPU session for an exported graph, on `threads` threads (None: onnxruntime's choice)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_rays(session, origins: torch.Tensor, directions: torch.Tensor, chunk: int = CHUNK,
             output: str = "rgb") -> torch.Tensor:
    """rgb [N, 3] (or with `output="depth"`, depth [N]) of rays [N, 3] from the session, `chunk` rays per call."""
    o = origins.detach().cpu().float().numpy()
    d = directions.detach().cpu().float().numpy()
    parts = [session.run([output], {"origins": o[i:i + chunk], "directions": d[i:i + chunk]})[0]
             for i in range(0, o.shape[0], chunk)]
    empty = np.zeros((0, 3) if output == "rgb" else (0,), np.float32)
    return torch.from_numpy(np.concatenate(parts) if parts else empty)


def view_rays(pose: torch.Tensor, intrinsics) -> tuple[torch.Tensor, torch.Tensor]:
    """A whole view's rays, flattened to [H*W, 3]."""
    origins, directions = camera_rays(pose, intrinsics)
    return origins.reshape(-1, 3).contiguous(), directions.reshape(-1, 3).contiguous()


def random_view_rays(poses: torch.Tensor, intrinsics, count: int, generator: torch.Generator):
    """`count` rays through random pixels of random views among `poses` [V, 4, 4] (all with `intrinsics`)."""
    pick = torch.randint(0, poses.shape[0], (count,), generator=generator)
    pixel = torch.randint(0, intrinsics.height * intrinsics.width, (count,), generator=generator)
    origins, directions = [], []
    for view in pick.unique().tolist():
        chosen = pick == view
        o, d = view_rays(poses[view], intrinsics)
        origins.append(o[pixel[chosen]])
        directions.append(d[pixel[chosen]])
    return torch.cat(origins), torch.cat(directions)


@torch.inference_mode()
def largest_difference(session, student, origins: torch.Tensor, directions: torch.Tensor) -> float:
    """The largest difference between the session and the torch student on the same rays: of colours, and for a
    student with depth also of depths as fractions of near..far (so one tolerance fits both)."""
    outs = [student(origins[i:i + CHUNK], directions[i:i + CHUNK]) for i in range(0, origins.shape[0], CHUNK)]
    error = float((run_rays(session, origins, directions) - torch.cat([o.rgb for o in outs])).abs().max())
    if student.config.depth:
        depth = run_rays(session, origins, directions, output="depth")
        expected = torch.cat([o.depth for o in outs])
        error = max(error, float((student.depth_fraction(depth) - student.depth_fraction(expected)).abs().max()))
    return error
