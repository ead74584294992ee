"""The student exported to ONNX: onnxruntime gives the torch student's colours (1e-4) on random rays and whole views,
for both encodings, boxes, NDC scenes and grid volumes; `r2l-train export` writes the graph and its sidecar."""

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.checkpoint import load_scene, save_scene
from r2l_viewer.core.datasets import load_dataset
from r2l_viewer.core.models import Student, StudentConfig
from r2l_viewer.core.render import render_image
from tests.grid_scenes import with_grid_student
from trainers.cli.train import main
from r2l_viewer.core.fast_student import FastStudent
from r2l_viewer.core.occupancy import teacher_occupancy
from trainers.jobs.distill import student_config_for, teacher_box
from trainers.export.onnx_export import ExportConfig, export_student
from trainers.export.onnx_runtime import TOLERANCE, open_session, random_view_rays, run_rays, view_rays
from trainers.storage.scene_io import model_entry, new_scene

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

SMALL = dict(points_per_ray=5, width=12, blocks=2)
BOX = dict(box_min=(-1.2, -0.9, -1.0), box_max=(1.1, 1.0, 0.8))
STUDENTS = {
    "frequency": StudentConfig(frequencies=4, **SMALL),
    "frequency_in_box": StudentConfig(frequencies=3, center=(0.1, 0.0, -0.1), scale=0.8, **SMALL, **BOX),
    "grid_planes_in_box": StudentConfig(encoding="grid", grid_planes=(6, 11), grid_channels=3, **SMALL, **BOX),
    "grid_planes_and_volumes": StudentConfig(encoding="grid", grid_planes=(5,), grid_volumes=(4, 7), grid_channels=2,
                                             scale=0.7, **SMALL),
}
VIEW = Intrinsics.from_focal(30, 40, 35.0)


def around_object(count: int = 6) -> torch.Tensor:
    return torch.stack([spherical_pose(60.0 * i - 170.0, 25.0, 3.0) for i in range(count)])


def exported(student, tmp_path, opset=0, name="s.onnx") -> dict:
    scene_path = tmp_path / "scene.ckpt"
    scene = load_scene(scene_path) if scene_path.exists() else None
    assert scene is not None, "call with a scene written by scene_with"
    scene.student = model_entry(student, stage="distilled", step=1)
    save_scene(scene_path, scene)
    return export_student(scene_path, ExportConfig(onnx=str(tmp_path / name), opset=opset, check_rays=512))


def scene_with(tmp_path):
    """A scene checkpoint of the demo's metadata (cameras around the origin) to put students in."""
    save_scene(tmp_path / "scene.ckpt", new_scene(load_dataset("demo", 40, ("train",))))


def check_against_torch(path, student, poses, intrinsics):
    session = open_session(path, threads=1)
    o, d = random_view_rays(poses, intrinsics, 777, torch.Generator().manual_seed(5))  # not the traced ray count
    with torch.inference_mode():
        assert (run_rays(session, o, d) - student(o, d).rgb).abs().max() <= TOLERANCE
        whole = run_rays(session, *view_rays(poses[1], intrinsics)).reshape(intrinsics.height, intrinsics.width, 3)
        assert (whole - render_image(student, poses[1], intrinsics).rgb).abs().max() <= TOLERANCE
        assert float(whole.std()) > 1e-3  # the view shows something (rays through the box, rays missing it)


@pytest.mark.parametrize("name", list(STUDENTS))
def test_onnxruntime_matches_the_torch_student(name, tmp_path):
    torch.manual_seed(0)
    student = Student(STUDENTS[name]).eval()
    scene_with(tmp_path)
    result = exported(student, tmp_path)
    assert result["check"]["max_abs_error"] <= TOLERANCE and result["check"]["rays"] == 512
    check_against_torch(tmp_path / "s.onnx", student, around_object(), VIEW)
    model = onnx.load(str(tmp_path / "s.onnx"))
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    assert opset == (20 if name == "grid_planes_and_volumes" else 17) == result["opset"]
    assert [i.name for i in model.graph.input] == ["origins", "directions"]
    assert [o.name for o in model.graph.output] == ["rgb"]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "rays"  # any number of rays
    assert {n.op_type for n in model.graph.node} >= ({"Sin", "Cos"} if "frequency" in name else {"GridSample"})


@pytest.mark.parametrize("encoding", ["frequency", "grid"])
def test_an_llff_student_exports_with_its_ndc_warp(fern_dir, encoding, tmp_path):
    dataset = load_dataset(fern_dir, 8, ("train",))
    save_scene(tmp_path / "scene.ckpt", new_scene(dataset))
    extra = dict(frequencies=4) if encoding == "frequency" else dict(grid_planes=(8, 16), grid_channels=2)
    config = student_config_for(StudentConfig(encoding=encoding, **SMALL, **extra), dataset.meta, normalize=True,
                                box=((-1.0, -1.0, -1.0), (1.0, 1.0, 1.0)))
    torch.manual_seed(1)
    student = Student(config).eval()
    assert student.config.ndc is not None
    result = exported(student, tmp_path)
    assert result["check"]["max_abs_error"] <= TOLERANCE
    check_against_torch(tmp_path / "s.onnx", student, dataset.split("train").poses, dataset.meta.intrinsics.scaled(0.1))
    sidecar = json.loads((tmp_path / "s.json").read_text())
    assert sidecar["scene"]["ndc"] == dataset.meta.ndc and sidecar["scene"]["format"] == "llff"


@pytest.mark.parametrize("spacing", [1.0, 1.5])
def test_a_product_student_in_its_teachers_occupancy_agrees_on_every_path(student_scene, tmp_path, spacing):
    """On the demo scene: multiplied plane reads, points in the trained teacher's occupancy (evenly or closer
    together near its first cell), rays missing it on the background; onnxruntime, the fused CPU path and the plain
    forward agree to 1e-4."""
    scene = load_scene(student_scene[0] / "scene.ckpt")
    teacher = scene.build_teacher()
    config = student_config_for(StudentConfig(encoding="grid", grid_planes=(6, 11), grid_channels=3, depth=True,
                                              grid_combine="product", occupancy_resolution=10,
                                              point_spacing=spacing, **SMALL),
                                scene.meta, normalize=True, box=teacher_box(teacher))
    torch.manual_seed(2)
    student = Student(config).eval()
    student.set_occupancy(teacher_occupancy(teacher, config.box_min, config.box_max, 10))
    save_scene(tmp_path / "scene.ckpt", scene)
    result = exported(student, tmp_path)
    assert result["check"]["max_abs_error"] <= TOLERANCE
    poses = scene.cameras["train"]
    check_against_torch(tmp_path / "s.onnx", student, poses, scene.meta.intrinsics)
    o, d = random_view_rays(poses, scene.meta.intrinsics, 900, torch.Generator().manual_seed(3))
    with torch.inference_mode():
        plain = student(o, d)
    fast = FastStudent(student).render(o, d)
    assert (fast.rgb - plain.rgb).abs().max() <= TOLERANCE and (fast.depth - plain.depth).abs().max() <= TOLERANCE
    background = torch.tensor(scene.meta.background)
    assert 0 < int((plain.rgb == background).all(-1).sum()) < len(o)  # some rays miss the occupancy, some do not


def test_volumes_below_opset_20_are_refused_in_one_line(tmp_path):
    scene_with(tmp_path)
    with pytest.raises(Exception, match=r"grid volumes \(3D GridSample\), which ONNX has from opset 20 on; pass "
                                        r"--opset 20") as caught:
        exported(Student(STUDENTS["grid_planes_and_volumes"]), tmp_path, opset=17)
    assert "\n" not in str(caught.value) and not (tmp_path / "s.onnx").exists()


def test_r2l_train_export_writes_the_graph_and_a_sidecar_for_renderers(student_scene, tmp_path, capsys):
    folder, _ = student_scene
    code = main(["export", str(folder / "scene.ckpt"), "--onnx", str(tmp_path / "out" / "student.onnx"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["check"]["max_abs_error"] <= TOLERANCE and result["opset"] == 17 and result["stage"] == "finetuned"
    assert "onnxruntime agrees to" in err and str(tmp_path / "out" / "student.json") in err
    sidecar = json.loads((tmp_path / "out" / "student.json").read_text())
    scene = load_scene(folder / "scene.ckpt")
    assert sidecar["onnx"] == "student.onnx" and sidecar["outputs"] == {"rgb": "float32 [N, 3], colour in [0, 1]"}
    assert sidecar["scene"]["near"] == scene.meta.near and sidecar["intrinsics"] == scene.meta.intrinsics.to_dict()
    assert sidecar["orbit"]["radius"] == scene.meta.orbit_radius and len(sidecar["cameras"]["train"]) == len(
        scene.cameras["train"])
    student = scene.build_student()
    check_against_torch(tmp_path / "out" / "student.onnx", student, scene.cameras["train"], scene.meta.intrinsics)


def test_a_grid_scene_exports_from_the_command_line(student_scene, tmp_path, capsys):
    folder, _ = student_scene
    path = with_grid_student(folder / "scene.ckpt", tmp_path / "grid.ckpt")
    assert main(["export", str(path), "--onnx", str(tmp_path / "g.onnx")]) == 0
    assert "onnx: " in capsys.readouterr().out
    scene = load_scene(path)
    check_against_torch(tmp_path / "g.onnx", scene.build_student(), scene.cameras["train"], scene.meta.intrinsics)


@pytest.mark.parametrize("args,expected", [
    (["--onnx", "x.onnx"], "has no student to export; run `r2l-train distill` on it first"),
    (["--onnx", "x.json"], "x.json: name the ONNX file with .onnx"),
    (["--onnx", "x.onnx", "--opset", "16"], "--opset 16: the exported graph needs opset 17 or newer"),
    (["--onnx", "x.onnx", "--opset", "21"], "ExportConfig.opset = 21 is above its maximum 20"),
])
def test_export_errors_are_one_line(taught_scene, tmp_path, capsys, args, expected):
    folder, _, _ = taught_scene
    code = main(["export", str(folder / "scene.ckpt"), *[a if a.startswith("-") or a.isdigit() else str(tmp_path / a)
                                                        for a in args]])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and expected in err, err


def readme_snippet(marker: str) -> str:
    """The README's Python block that holds `marker`."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    return next(block.split("\n", 1)[1] for block in readme.split("```python")[1:] if marker in block.split("```")[0]
                ).split("```")[0]


def test_the_readme_renders_an_exported_student_with_onnxruntime_alone(student_scene, tmp_path, monkeypatch):
    folder, _ = student_scene
    assert main(["export", str(folder / "scene.ckpt"), "--onnx", str(tmp_path / "lego.onnx")]) == 0
    monkeypatch.chdir(tmp_path)
    names = {}
    exec(readme_snippet("render-with-onnxruntime"), names)
    scene = load_scene(folder / "scene.ckpt")
    expected = render_image(scene.build_student(), scene.cameras["train"][0], scene.meta.intrinsics).rgb
    difference = names["image"].astype(float) - (expected.numpy() * 255).round()
    assert names["image"].shape == tuple(expected.shape) and abs(difference).max() <= 1


@pytest.mark.parametrize("name", ["frequency_in_box", "grid_planes_in_box"])
def test_a_student_with_depth_exports_a_depth_output(name, tmp_path):
    torch.manual_seed(0)
    student = Student(dataclasses.replace(STUDENTS[name], depth=True)).eval()
    for p in student.parameters():  # weights that spread the depths over near..far
        p.data.normal_(0.0, 0.3)
    scene_with(tmp_path)
    result = exported(student, tmp_path)
    assert result["check"]["max_abs_error"] <= TOLERANCE
    model = onnx.load(str(tmp_path / "s.onnx"))
    assert [o.name for o in model.graph.output] == ["rgb", "depth"]
    assert model.graph.output[1].type.tensor_type.shape.dim[0].dim_param == "rays"
    session = open_session(tmp_path / "s.onnx", threads=1)
    o, d = random_view_rays(around_object(), VIEW, 555, torch.Generator().manual_seed(3))
    with torch.inference_mode():
        expected = student(o, d)
    depth = run_rays(session, o, d, output="depth")
    assert depth.shape == (555,) and float(expected.depth.std()) > 1e-2
    assert (depth - expected.depth).abs().max() <= TOLERANCE * (student.config.far - student.config.near)
    assert (run_rays(session, o, d) - expected.rgb).abs().max() <= TOLERANCE
    sidecar = json.loads((tmp_path / "s.json").read_text())
    assert set(sidecar["outputs"]) == {"rgb", "depth"} and sidecar["student"]["config"]["depth"] is True


@pytest.mark.parametrize("encoding", ["frequency", "grid"])
def test_an_unbounded_capture_student_exports_with_its_contraction(captures_dir, encoding, tmp_path):
    dataset = load_dataset(captures_dir / "fruit", 32, ("train",))
    save_scene(tmp_path / "scene.ckpt", new_scene(dataset))
    extra = dict(frequencies=4) if encoding == "frequency" else dict(grid_planes=(8, 16), grid_channels=2)
    config = student_config_for(StudentConfig(encoding=encoding, depth=True, **SMALL, **extra), dataset.meta,
                                normalize=True)
    torch.manual_seed(2)
    student = Student(config).eval()
    assert student.config.contraction == dataset.meta.contraction
    result = exported(student, tmp_path)
    assert result["check"]["max_abs_error"] <= TOLERANCE
    check_against_torch(tmp_path / "s.onnx", student, dataset.split("train").poses, dataset.meta.intrinsics.scaled(0.15))
    sidecar = json.loads((tmp_path / "s.json").read_text())
    assert sidecar["scene"]["contraction"] == dataset.meta.contraction and sidecar["scene"]["kind"] == "unbounded"
