"""The compare worker without a window: metrics for one camera, and a camera move abandons the request in hand."""

from __future__ import annotations

import torch

from r2l_viewer.app.workers.compare_worker import CompareRequest, CompareWorker, coarse_intrinsics
from r2l_viewer.app.session import open_scene
from r2l_viewer.core.cameras import Intrinsics
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


def test_a_coarse_teacher_comes_first_while_the_teacher_is_slow_or_untimed(qapp, demo_checkpoint):
    worker, request = worker_and_request(demo_checkpoint)
    sent = []
    worker.coarse_teacher.connect(lambda result: sent.append(("coarse", result)))
    worker.compared.connect(lambda result: sent.append(("full", result)))
    serial = worker.request(request)
    worker.compared.emit(worker._compare(*worker.mailbox.take(), worker._teacher, worker._student))
    assert [kind for kind, _ in sent] == ["coarse", "full"] and sent[0][1].serial == serial
    assert sent[0][1].teacher.shape == (6, 6, 3) and sent[0][1].student is None  # a quarter of the side, untimed
    assert worker.teacher_seconds_per_pixel is not None  # timed by the full render: sized from it next time
    sent.clear()
    worker.teacher_seconds_per_pixel = 1e-9  # a fast teacher: no coarse render needed
    worker._compare(worker.request(request), request, worker._teacher, worker._student)
    assert sent == []


def test_the_coarse_size_takes_about_a_quarter_second():
    view = Intrinsics.from_focal(100, 100, 120.0)
    assert coarse_intrinsics(view, None).width == 25  # not timed yet: a quarter of the side
    assert coarse_intrinsics(view, 5.0 / 10_000).width == 22  # the full view takes 5 s: sqrt(0.25 / 5) of the side
    assert coarse_intrinsics(view, 100.0 / 10_000).width == 12  # never below an eighth of the side
