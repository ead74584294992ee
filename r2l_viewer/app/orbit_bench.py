"""`python -m r2l_viewer.app.orbit_bench [SCENE]`: orbit the live view for a while and report FPS and resolution.

It drives the real window (render thread, dynamic resolution, canvas) with a steady drag of `--speed` pixels every
16 ms, and prints one JSON object: frames per second while moving and the effective (rendered) resolution, in any
render mode (`--mode`), and with `--split` the same for the split view's teacher side."""

from __future__ import annotations

import argparse
import json
import statistics
import sys

from r2l_viewer.app.main import parse_size


def measure(window, seconds: float, speed: float, on_done) -> None:
    """Start orbiting once the first full frame is up; after `seconds`, call on_done(report)."""
    from PyQt6.QtCore import QTimer

    frames, left, state = [], [], {"start": None}
    live = window.live

    def on_frame(frame):
        if state["start"] is not None and not frame.full:
            (left if frame.role == "left" else frames).append(frame)

    def tick():
        window.canvas.pointer.orbit.emit(speed, 0.0)

    def start(*_):
        if state["start"] is None:
            import time

            state["start"] = time.perf_counter()
            timer.start()
            QTimer.singleShot(int(seconds * 1000), finish)

    def finish():
        timer.stop()
        result = report(frames, seconds, live.full_size())
        if live.plan.left is not None:
            result["teacher_side"] = report(left, seconds, live.full_size())
        on_done(result)

    timer = QTimer(window, interval=16, timeout=tick)
    live.worker.frame_ready.connect(on_frame)
    live.full_frame_shown.connect(start)


def report(frames, seconds: float, full_size) -> dict:
    if not frames:
        return {"fps": 0.0, "frames": 0}
    sides = [f.rgb.shape[1] * f.rgb.shape[0] for f in frames]
    pixels = statistics.median(sides)
    return {
        "fps": round(len(frames) / seconds, 2),
        "frames": len(frames),
        "effective_resolution": f"{round(pixels ** 0.5)}x{round(pixels ** 0.5)}",
        "median_pixels": int(pixels),
        "median_ms": round(statistics.median(f.seconds for f in frames) * 1000, 1),
        "full_size": list(full_size),
        "model": frames[-1].label,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="orbit_bench", description=__doc__.splitlines()[0])
    parser.add_argument("scene", nargs="?")
    parser.add_argument("--size", type=parse_size, default=(400, 400), help="full render size (default 400x400)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--speed", type=float, default=4.0, help="drag pixels per 16 ms")
    parser.add_argument("--target-fps", type=float, default=None, help="the governor's frame-rate target")
    parser.add_argument("--moving-scale", type=float, default=None,
                        help="fix the moving resolution to this fraction of --size (no dynamic resolution)")
    parser.add_argument("--mode", choices=("colour", "depth", "error"), default="colour")
    parser.add_argument("--split", action="store_true", help="the split view on (teacher left of the divider)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    import torch
    from PyQt6.QtWidgets import QApplication

    from r2l_viewer.core.device import describe_device, resolve_device

    from r2l_viewer.app.session import BUNDLED_DEMO, SceneSession, open_scene
    from r2l_viewer.app.window import MainWindow

    device = resolve_device(args.device)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    session = SceneSession(open_scene(args.scene or BUNDLED_DEMO, device), device)
    window = MainWindow(session, describe_device(device), args.size, view={"mode": args.mode, "split": args.split})
    if args.target_fps:
        window.live.governor.target_fps = args.target_fps
    if args.moving_scale:
        window.live.governor.moving_scale = lambda full_pixels, share=1.0: args.moving_scale
    result = {}

    def done(rep):
        result.update(rep, device=describe_device(device), torch_threads=torch.get_num_threads(),
                      target_fps=window.live.governor.target_fps)
        window.close()
        app.quit()

    measure(window, args.seconds, args.speed, done)
    window.show()
    app.exec()
    window.wait_for_threads()  # close() may have been deferred while a thread ran: never exit with one running
    print(json.dumps(result))
    return 0 if result.get("frames") else 1


if __name__ == "__main__":
    sys.exit(main())
