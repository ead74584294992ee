"""The render queue and frame pacing, without Qt: newest request wins, dynamic resolution, FPS, medians."""

import threading

from r2l_viewer.app.workers.mailbox import LatestMailbox
from r2l_viewer.app.canvas.pacing import DynamicResolution, FpsMeter, RollingMedian, scaled_size


def test_mailbox_keeps_only_the_newest_request():
    box = LatestMailbox()
    first = box.put("a")
    box.put("b")
    assert box.newer_than(first)
    serial, item = box.take()
    assert item == "b" and not box.newer_than(serial)
    assert box.take(timeout=0.01) is None


def test_mailbox_close_wakes_a_waiting_worker():
    box = LatestMailbox()
    got = []
    worker = threading.Thread(target=lambda: got.append(box.take()))
    worker.start()
    box.close()
    worker.join(2)
    assert got == [None] and box.newer_than(0)


def test_dynamic_resolution_fits_the_frame_budget():
    governor = DynamicResolution(target_fps=10)
    assert governor.moving_scale(400 * 400) == 0.5  # nothing measured yet
    governor.observe(200 * 200, 0.2)  # 5 us per pixel: 400x400 would take 0.8 s
    scale = governor.moving_scale(400 * 400)
    assert abs(scale - (0.1 / 0.8) ** 0.5) < 1e-6
    governor.seconds_per_pixel = 1e-12
    assert governor.moving_scale(400 * 400) == 1.0


def test_scaled_size_keeps_aspect_and_a_minimum():
    assert scaled_size(400, 200, 0.5) == (200, 100)
    assert scaled_size(400, 200, 0.01) == (32, 16)


def test_fps_meter_and_rolling_median():
    now = [0.0]
    meter = FpsMeter(window=1.0, clock=lambda: now[0])
    for _ in range(11):
        meter.tick()
        now[0] += 0.05
    assert abs(meter.fps - 20.0) < 1e-6
    median = RollingMedian(size=3)
    for value in (5, 1, 2, 100):
        median.add(value)
    assert median.median == 2


def test_rest_frames_are_full_unless_they_would_be_very_slow():
    governor = DynamicResolution(max_rest_seconds=2.0)
    assert governor.rest_scale(600 * 600) == 1.0
    governor.observe(100 * 100, 0.01)  # 1 us per pixel: 600x600 in 0.36 s
    assert governor.rest_scale(600 * 600) == 1.0
    governor.observe(100 * 100, 1.0)  # a slow model
    assert governor.rest_scale(600 * 600) < 1.0
