"""r2l-render's PNG frames and r2l-eval --save on a disk that fills up (a real 512 KB tmpfs): one line, exit 2, no
partial file under a final name, no temporary file left."""

import imageio.v3 as iio
import pytest

from trainers.cli.eval import main as eval_main
from trainers.cli.render import main as render_main

from tests.core.test_image_files import fill
from tests.damaged_scenes import small_scene


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return small_scene(tmp_path_factory.mktemp("scene") / "scene.ckpt")


def _one_line(capsys, program: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{program}: error: "), err
    return err


def test_png_frames_on_a_full_disk(scene, small_disk, capsys):
    fill(small_disk, 16 << 10)
    out = small_disk / "frames"
    assert render_main([str(scene), "--out", str(out), "--size", "16x16", "--device", "cpu", "--quiet"]) == 2
    err = _one_line(capsys, "r2l-render")
    assert "disk full while writing it; nothing was left under that name" in err
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]  # no frames folder, no partial one


def test_eval_save_on_a_full_disk(scene, small_disk, capsys):
    fill(small_disk, 8 << 10)
    saved = small_disk / "saved"
    code = eval_main([str(scene), "--data", "demo", "--downscale", "12", "--limit", "2", "--warmup", "0", "--quiet",
                      "--save", str(saved)])
    assert code == 2
    assert "disk full while writing it; nothing was left under that name" in _one_line(capsys, "r2l-eval")
    files = sorted(saved.iterdir())
    assert len(files) < 9  # it stopped part-way (2 views x 4 images and the contact sheet would be 9)
    for path in files:  # what is there is whole: every file a complete PNG, no temporary ones
        assert path.suffix == ".png" and not path.name.startswith(".")
        assert iio.imread(path).shape[0] == 33
