"""`r2l-eval` on a scene whose student is grid-encoded: its table shows both models' bytes on disk and ms per frame
and says the student's encoding; the JSON gains the encoding and keeps its keys."""

import json

from r2l_viewer.core.assets import demo_checkpoint_path
from trainers.cli.eval import main
from r2l_viewer.core.model_text import human_bytes, student_encoding_text

from tests.grid_scenes import TINY_GRID_TEXT, with_grid_student
from tests.trainers.conftest import DEMO_DOWNSCALE

ARGS = ["--data", "demo", "--downscale", str(DEMO_DOWNSCALE), "--split", "val", "--limit", "1", "--warmup", "0",
        "--quiet"]


def test_the_encoding_is_said_in_words():
    assert student_encoding_text({"points_per_ray": 16, "frequencies": 10}) == "16 points, L=10"  # an old checkpoint
    grid = {"points_per_ray": 16, "encoding": "grid", "grid_planes": [64, 128, 256], "grid_volumes": [],
            "grid_channels": 4}
    assert student_encoding_text(grid) == "16 points, grid planes 64/128/256 x 4 ch"
    with_volume = "16 points, grid planes 64/128/256 + volumes 32 x 4 ch"
    assert student_encoding_text(grid | {"grid_volumes": [32]}) == with_volume
    assert student_encoding_text(grid | {"grid_planes": [], "grid_volumes": [16, 32]}) == \
        "16 points, grid volumes 16/32 x 4 ch"
    placed = grid | {"grid_combine": "product", "occupancy_resolution": 64}
    assert student_encoding_text(placed) == "16 points, grid planes 64/128/256 x 4 ch, product, occupancy 64^3"
    assert student_encoding_text(placed | {"point_spacing": 1.5}) == \
        "16 points, grid planes 64/128/256 x 4 ch, product, occupancy 64^3, points at u^1.5"
    assert [human_bytes(n) for n in (912, 48_100, 23_670_000)] == ["912 B", "48.1 kB", "23.67 MB"]


def test_r2l_eval_prints_bytes_and_ms_of_both_models_and_the_grid_encoding(tmp_path, capsys):
    scene = with_grid_student(demo_checkpoint_path(), tmp_path / "scene.ckpt")
    assert main([str(scene), *ARGS, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for role in ("teacher", "student"):
        assert result[role]["bytes"] > 0 and result[role]["ms_per_frame"] > 0, role
    assert result["student"]["encoding"] == "grid" and result["student"]["encoding_text"] == TINY_GRID_TEXT
    assert main([str(scene), *ARGS]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("model"))
    assert "ms/frame" in header and "on disk" in header
    for role in ("teacher", "student"):  # each row: name, PSNR, SSIM, ms/frame, bytes on disk, ...
        cells = next(line for line in lines if line.startswith(role)).split()
        assert float(cells[3]) > 0 and cells[4:6] == human_bytes(result[role]["bytes"]).split(), cells
    assert f"student encoding: grid ({TINY_GRID_TEXT}); MFLOPs/ray count its MLP, not the grid lookups" in lines
