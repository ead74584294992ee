"""`r2l-viewer [SCENE.ckpt] [--device auto|cpu|cuda] [--size WxH] [--mode M] [--split [F]] [--screenshot PNG]`: open
a scene and look around."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PROG = "r2l-viewer"
SCREENSHOT_TIMEOUT_S = 55.0

# The render, compare and training threads each drive their own OpenMP team in torch. With libgomp's default
# spin-waiting, idle team threads burn the cores the busy ones need (a render measured 3x slower next to another
# busy process on 2 cores); passive waiting gives those cores back. libgomp reads it once, when torch is first
# imported, which is why this module imports torch only inside functions. An explicit setting is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from trainers.cli.args import frame_size  # noqa: E402 (it imports no torch)


parse_size = frame_size(16, 8192)  # the live view's size at rest (--size), as r2l-render reads its --size


def parse_divider(text: str) -> float:
    try:
        fraction = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected the divider's place as a fraction such as 0.5, got '{text}'") \
            from None
    if not 0.02 <= fraction <= 0.98:
        raise argparse.ArgumentTypeError(f"divider {text} out of range (0.02 to 0.98 of the width)")
    return fraction


def build_parser() -> argparse.ArgumentParser:
    from trainers.cli.args import BriefArgumentParser

    parser = BriefArgumentParser(prog=PROG, description="Watch, train and compare an R2L student and its NeRF "
                                     "teacher. With no scene it opens the bundled demo.")
    parser.add_argument("scene", nargs="?", help="a scene checkpoint made by r2l-train (default: the bundled demo)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    parser.add_argument("--size", type=parse_size, metavar="WxH", help="render size of the live view at rest "
                        "(default: the canvas size)")
    parser.add_argument("--mode", choices=("colour", "depth", "error"), help="start in this render mode (default: the "
                        "one used last; keys 1 2 3 in the window)")
    parser.add_argument("--split", nargs="?", const=0.5, type=parse_divider, metavar="FRACTION",
                        help="start with the split view on (teacher left, student right), its divider at FRACTION of "
                        "the width (default 0.5; key V in the window)")
    parser.add_argument("--screenshot", metavar="PNG", help="save the window once the first full-resolution frame "
                        "and the teacher's view are drawn, then exit")
    return parser


def fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from r2l_viewer.core.device import describe_device, resolve_device
    from r2l_viewer.core.errors import UserError, report_bug

    from r2l_viewer.app.display import choose_platform
    from r2l_viewer.app.session import BUNDLED_DEMO, open_scene

    path = Path(args.scene) if args.scene else BUNDLED_DEMO
    try:
        device = resolve_device(args.device)
        loaded = open_scene(path, device)
    except UserError as exc:
        return fail(str(exc))
    except Exception:  # not the user's doing: the traceback, and a line asking for a report
        return report_bug(PROG)
    if args.screenshot and not Path(args.screenshot).resolve().parent.is_dir():
        return fail(f"{args.screenshot}: its folder does not exist")
    platform, problem = choose_platform(os.environ, bool(args.screenshot))
    if problem:
        return fail(problem)
    if platform:
        os.environ["QT_QPA_PLATFORM"] = platform
    return run_app(loaded, device, describe_device(device), args.size, args.screenshot, view_overrides(args))


def view_overrides(args) -> dict:
    """The view settings given on the command line (they apply to this session; the window remembers its own)."""
    overrides = {} if args.mode is None else {"mode": args.mode}
    return overrides | ({} if args.split is None else {"split": True, "divider": args.split})


def run_app(loaded, device, device_text: str, size, screenshot: str | None, view: dict | None = None) -> int:
    """Open the window (Qt is imported only now, after the arguments and the file were checked)."""
    from PyQt6 import sip
    from PyQt6.QtWidgets import QApplication

    from r2l_viewer.app.screenshot import ScreenshotOnReady
    from r2l_viewer.app.session import SceneSession
    from r2l_viewer.app.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(PROG)
    session = SceneSession(loaded, device)
    window = MainWindow(session, device_text, size, fit_to_screen=screenshot is None, view=view)
    taker = ScreenshotOnReady(window, screenshot, SCREENSHOT_TIMEOUT_S) if screenshot else None
    window.closed.connect(app.quit)  # the window closes only once its threads have ended
    window.show()
    code = app.exec()
    if not window.is_closed:  # the loop ended some other way: no thread may outlive it (Qt would abort)
        window.wait_for_threads()
    if taker is not None:
        code = taker.exit_code
    sip.delete(window)  # widgets (the GL canvas) go before the QApplication, not in whatever order exit picks
    return code


if __name__ == "__main__":
    sys.exit(main())
