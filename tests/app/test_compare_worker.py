"""The compare worker without a window: metrics for one camera, and a camera move abandons the request in hand."""

from __future__ import annotations

import torch

from r2l_viewer.app.compare_worker import CompareRequest, CompareWorker
from r2l_viewer.app.session import open_scene
from r2l_viewer.core.orbit import OrbitCamera

CPU = torch.device("cpu")


def worker_and_request(path):
    loaded = open_scene(path, CPU)
    meta = loaded.checkpoint.meta
    worker = CompareWorker(meta)  # not started: the test calls its steps itself
    worker.set_models(loaded.teacher, loaded.student)
    request = CompareRequest(OrbitCamera.for_scene(meta).c2w(), meta.intrinsics.resized(24, 24))
    return worker, request


def test_a_request_gives_both_renders_and_the_metrics_between_them(qapp, demo_checkpoint):
    worker, request = worker_and_request(demo_checkpoint)
    serial = worker.request(request)
    result = worker._compare(*worker.mailbox.take(), worker._teacher, worker._student)
    assert result.serial == serial and result.teacher.shape == result.student.shape == (24, 24, 3)
    assert result.psnr > 10 and result.error.shape == (24, 24, 3)
    assert "not on a dataset camera" in result.real_note


def test_a_camera_move_abandons_the_request_and_a_new_one_is_answered(qapp, demo_checkpoint):
    worker, request = worker_and_request(demo_checkpoint)
    old = worker.request(request)
    worker.cancel()  # what the window calls when the camera moves
    assert worker._compare(old, request, worker._teacher, worker._student) is None
    new = worker.request(request)
    assert worker._compare(new, request, worker._teacher, worker._student) is not None
