"""Writes tests/data/grid-student-v1.ckpt and its pixels with the code before combine/occupancy existed."""
import torch
from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.checkpoint import SceneCheckpoint, save_scene
from r2l_viewer.core.datasets import load_demo
from r2l_viewer.core.models import Student, StudentConfig, model_record
from r2l_viewer.core.render import render_image
from trainers.jobs.distill import student_config_for

torch.manual_seed(0)
meta = load_demo(downscale=25).meta
base = StudentConfig(points_per_ray=8, encoding="grid", grid_planes=(4, 8), grid_channels=2, width=16, blocks=1,
                     depth=True)
config = student_config_for(base, meta, False, ((-1.0, -1.1, -0.9), (1.1, 1.0, 1.2)))
student = Student(config).eval()
for p in student.parameters():
    p.data.normal_(0, 0.3)
record = dict(model_record(student), stage="distilled", step=3, complete=True)
save_scene("tests/data/grid-student-v1.ckpt", SceneCheckpoint(meta, student=record))
intrinsics = Intrinsics(16, 16, 22.0, 22.0, 8.0, 8.0)
pose = spherical_pose(30.0, -40.0, 4.0)
with torch.no_grad():
    rgb = render_image(student, pose, intrinsics, 4096).rgb
torch.save({"rgb": rgb, "pose": pose, "intrinsics": intrinsics.to_dict()}, "tests/data/grid-student-v1.pixels.pt")
print(config, rgb.mean())
