"""`r2l-bench`'s onnxruntime row: the tiny student's ms per frame through onnxruntime next to torch's."""

import pytest

from r2l_viewer.core.models import Student, StudentConfig
from trainers.bench.onnx_speed import onnx_frames, print_onnx_rows
from trainers.export.onnx_runtime import TOLERANCE

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("config", [
    StudentConfig(points_per_ray=4, frequencies=3, width=16, blocks=1),
    StudentConfig(points_per_ray=4, encoding="grid", grid_planes=(8, 16), grid_channels=2, width=16, blocks=1,
                  box_min=(-1.5,) * 3, box_max=(1.5,) * 3),
])
def test_onnx_frames_time_both_runtimes_on_the_same_rays(config, capsys):
    row = onnx_frames(Student(config), [12, 20], repeats=2, threads=1)
    assert row["threads"] == 1 and row["opset"] == 17 and row["encoding"] == config.encoding
    assert set(row["frames"]) == {"12", "20"}
    for frame in row["frames"].values():
        assert frame["onnxruntime_ms"] > 0 and frame["torch_ms"] > 0 and frame["max_abs_error"] <= TOLERANCE
    print_onnx_rows(row)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("tiny student at 12, onnxruntime ") and "vs torch" in lines[0]
