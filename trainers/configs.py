"""One config dataclass per job; each field carries its help text and bounds for the CLI, the GUI and checkpoints."""

from __future__ import annotations

from dataclasses import dataclass

from r2l_viewer.core.config import param
from r2l_viewer.core.models import GridConfig, NerfConfig, StudentConfig
from r2l_viewer.core.models.grid import SAMPLERS

APPEARANCE = ("auto", "on", "off")
DEPTH_WEIGHT = 0.3
DEPTH_WEIGHT_HELP = ("for a student with depth: weight of its depth loss beside the colour loss (squared error, "
                     "depths as fractions of near..far) against the teacher's depth")
# ordinary steps' gradients reached 1.5x their running average on lego: a lower limit would act on ordinary steps
# and halve the learning rate again and again
MIN_OUTLIER_LIMIT = 2.0
OUTLIER_LIMIT_HELP = ("a step whose gradient norm exceeds this many times its running average is scaled down to "
                      "it and halves the learning rate from then on: the start of a loss spike, which otherwise "
                      "takes thousands of steps to recover from (0: off, else at least 2; tiny and standard use 4)")


@dataclass
class TeacherConfig:
    """Train a teacher on the real training images."""

    kind: str = param("grid", "teacher model: 'grid' (fast voxel grid) or 'nerf' (the paper's vanilla NeRF)", choices=("grid", "nerf"), gui=True)
    steps: int = param(3000, "optimisation steps", min=1, max=10_000_000, gui=True)
    batch_rays: int = param(4096, "rays per step, drawn from all training pixels", min=16, max=1_048_576, gui=True)
    lr: float = param(0.1, "learning rate of the grids (grid) or of the networks (nerf)", min=1e-7, max=10.0, gui=True)
    mlp_lr: float = param(2e-3, "learning rate of the grid teacher's colour MLP", min=1e-7, max=1.0)
    lr_final_factor: float = param(0.1, "learning rate at the last step, as a fraction of the first (exponential decay)", min=1e-4, max=1.0)
    start_resolution: int = param(48, "grid teacher: starting voxels per side, doubled towards grid.resolution", min=4, max=1024)
    upsample_steps: tuple = param((300, 700, 1200), "grid teacher: steps at which the grid grows towards full "
                                  "resolution (increasing step numbers)", min=1, order="<")
    appearance: str = param("auto", "grid teacher: a learned appearance code per training image, for photos whose "
                            "exposure or white balance changes between shots (new views take the codes' mean): "
                            "'auto' (on for nerfstudio/instant-ngp captures without cut-out masks), 'on' or 'off'", choices=APPEARANCE)
    sampler: str = param("auto", "grid teacher: where a ray's samples go: 'march' (every grid.step_ratio voxels "
                         "through the occupied voxels), 'importance' (a density probe, then grid.samples intervals "
                         "where its weights are) or 'auto' (march for an object in a box; importance for "
                         "forward-facing and unbounded scenes, whose space is full)", choices=("auto",) + SAMPLERS)
    occupancy_every: int = param(50, "grid teacher: steps between empty-space map refreshes", min=1)
    grid: GridConfig = param(GridConfig(), "the grid teacher's shape")
    nerf: NerfConfig = param(NerfConfig(), "the NeRF teacher's shape")
    val_every: int = param(500, "steps between validation renders (0: only at the end)", min=0)
    val_views: int = param(4, "validation images rendered each time", min=1, max=1000)
    distortion: float = param(0.0, "grid teacher with the importance sampler (forward-facing and unbounded scenes): "
                              "weight of mip-NeRF 360's distortion loss, which gathers each ray's weight into one "
                              "short stretch against floaters and fog (0: none; mip-NeRF 360 uses 0.01)", min=0.0,
                              max=10.0)
    settle_db: float = param(0.0, "end training early once it has settled: at a validation whose last val_every "
                             "steps all came after the grid's last growth, when the best validation PSNR rose by less "
                             "than this many dB over them (0, or val_every 0: train every step)", min=0.0,
                             max=100.0, gui=True)
    save_every: int = param(1000, "steps between checkpoint saves", min=1)


@dataclass
class PseudoConfig:
    """Let the teacher render random views as the student's training data."""

    images: int = param(1000, "pseudo views to render", min=1, max=1_000_000, gui=True)
    ray_budget: int = param(0, "render at most this many rays in all (fewer views for larger images; 0: no "
                            "limit): keeps a preset's time when the scene's images are larger than it was made for",
                            min=0)
    focal_scale: tuple = param((1.0, 2.0), "focal length multiplied by U[lo, hi) per view (zooms in on detail)",
                               min=0.1, max=100.0, length=2, order="<=")
    radius_scale: tuple = param((1.0, 1.0), "camera distance multiplied by U[lo, hi) per view", min=0.1, max=100.0,
                                length=2, order="<=")
    elevation: tuple | None = param(None, "elevation range lo,hi in degrees, -90 to 90 (None: the training "
                                          "cameras' range)", min=-90.0, max=90.0, length=2, order="<=")
    shard_images: int = param(256, "views per shard file", min=1, max=100_000)
    render_chunk: int = param(16384, "rays per teacher call while rendering", min=256)


@dataclass
class DistillConfig:
    """Train the student on the teacher's pseudo data (from disk, or rendered online)."""

    student: StudentConfig = param(StudentConfig(), "the student network's shape")
    steps: int = param(4000, "optimisation steps", min=1, max=100_000_000, gui=True)
    batch_rays: int = param(4096, "rays per step (plus hard examples)", min=16, max=1_048_576, gui=True)
    lr: float = param(5e-4, "peak learning rate", min=1e-7, max=1.0, gui=True)
    grid_lr: float = param(2e-2, "peak learning rate of a grid-encoded student's feature planes (same schedule)",
                           min=1e-7, max=10.0)
    warmup_steps: int = param(200, "steps of linear warm-up", min=0)
    warmup_lr: float = param(1e-4, "learning rate at step 0 of the warm-up", min=0.0)
    decay_steps: float = param(500_000, "learning rate is multiplied by 0.1 every decay_steps steps", min=1.0)
    depth_weight: float = param(DEPTH_WEIGHT, DEPTH_WEIGHT_HELP + " in the pseudo data", min=0.0)
    hard_fraction: float = param(0.2, "share of each batch (its worst rays) kept in the hard-example pool", min=0.0, max=1.0)
    hard_rays: int = param(1024, "hard-example rays appended to each batch (0: mining off)", min=0)
    outlier_limit: float = param(0.0, OUTLIER_LIMIT_HELP, min=MIN_OUTLIER_LIMIT, off=0.0)
    ray_streams: int = param(0, "random ray streams the batch is split into, each seeded from the seed and its number, "
                             "with its own hard-example pool (0: one per torchrun rank, 1 without torchrun); a run "
                             "draws the same rays on any number of ranks that divides it", min=0, max=4096)
    normalize_points: bool = param(True, "scale ray points to the scene box before encoding (False: raw, as in the paper)")
    points_in_box: bool = param(False, "place each ray's points where it crosses the box the "
                                 "teacher found occupied (the scene box for NeRF teachers), not from near to far as in the paper")
    precision: str = param("auto", "matrix products in bf16 (auto: on CUDA) or fp32 (auto: on a CPU)",
                           choices=("auto", "fp32", "bf16"))
    online: bool = param(False, "render fresh pseudo views with the teacher while training instead of reading from disk", gui=True)
    online_buffer: int = param(64, "online mode: views kept in the ring buffer", min=1)
    online_every: int = param(4, "online mode: steps between fresh views", min=1)
    val_every: int = param(500, "steps between validation (0: only at the end)", min=0)
    val_views: int = param(4, "validation views (teacher renders and real images)", min=1)
    save_every: int = param(1000, "steps between checkpoint saves", min=1)


@dataclass
class FinetuneConfig:
    """Train the distilled student on the real training images; keep the best by validation PSNR."""

    steps: int = param(500, "optimisation steps", min=1, max=10_000_000, gui=True)
    batch_rays: int = param(4096, "rays per step, drawn from all training pixels", min=16, max=1_048_576, gui=True)
    ray_streams: int = param(0, "random ray streams the batch is split into, each seeded from the seed and its number, "
                             "with its own hard-example pool (0: one per torchrun rank, 1 without torchrun); a run "
                             "draws the same rays on any number of ranks that divides it", min=0, max=4096)
    lr: float = param(2e-4, "learning rate (constant)", min=1e-7, max=1.0, gui=True)
    grid_lr: float = param(2e-3, "learning rate of a grid-encoded student's feature planes (constant)", min=1e-7,
                           max=10.0)
    depth_weight: float = param(DEPTH_WEIGHT, DEPTH_WEIGHT_HELP + ", rendered once for the training views (real "
                                "images have none; this keeps the depth from drifting)", min=0.0)
    outlier_limit: float = param(0.0, OUTLIER_LIMIT_HELP, min=MIN_OUTLIER_LIMIT, off=0.0)
    precision: str = param("auto", "matrix products in bf16 (auto: on CUDA) or fp32 (auto: on a CPU)",
                           choices=("auto", "fp32", "bf16"))
    val_every: int = param(100, "steps between validation; the best step is kept", min=1)
    val_views: int = param(4, "validation views", min=1)
    save_every: int = param(500, "steps between saves of the resume state", min=1)


@dataclass
class EvalConfig:
    """Measure teacher and student against the real images of a split."""

    split: str = param("test", "which split to evaluate", choices=("train", "val", "test"))
    limit: int = param(0, "evaluate only the first N views (0: all)", min=0)
    warmup: int = param(1, "untimed renders before timing", min=0)
    chunk: int = param(16384, "rays per model call (fewer on a CPU for big models, to stop within a second)", min=256)
    save_dir: str | None = param(None, "write <view>_teacher/_student/_truth/_error.png per view into this folder")


@dataclass
class VideoConfig:
    """Render a camera path into a video (mp4) or a folder of PNG frames."""

    path: str = param("orbit", "the camera path: 'orbit' (the scene's standard path: the NeRF 40-frame orbit, or "
                      "nerf-pytorch's 120-frame spiral for forward-facing scenes) or a nerfstudio camera-path .json "
                      "file")
    out: str = param("", "the .mp4 file to write, or a folder (a name without a suffix) for numbered PNG frames")
    model: str = param("student", "which model renders: the student, the teacher, or both side by side with "
                       "their names", choices=("student", "teacher", "both"), gui=True)
    output: str = param("rgb", "what each frame shows: the colour image, or the depth as a Turbo colour map "
                        "(near blue, far red; the range of the first frame's surfaces)", choices=("rgb", "depth"),
                        gui=True)
    size: tuple[int, ...] | None = param(None, "width,height of a model's frame in pixels (None: the path's render "
                                         "size; orbit: the scene's image size); an mp4 frame with an odd side is "
                                         "padded by one pixel (H.264 needs even sides)", min=8, max=8192, length=2)
    fps: float | None = param(None, "frames per second of the video (None: the path's; orbit: 30); the path's "
                              "frames are rendered as they are, so this sets the video's length", min=0.1, max=240.0)
    quality: int = param(8, "mp4 quality from 1 to 10 (libx264 constant quality: 8 is crf 10, near lossless)",
                         min=1, max=10)
    overwrite: bool = param(False, "replace an existing output (it is replaced only once the new one is complete)")
    chunk: int = param(16384, "rays per model call at most (fewer on a CPU for big models, to stop within a second)",
                       min=256)
