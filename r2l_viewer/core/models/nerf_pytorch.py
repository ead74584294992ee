"""nerf-pytorch checkpoints: their weights, the settings nerf-pytorch wrote beside them, and the NeRF that renders them
as nerf-pytorch does (rays through pixel corners, its sample counts, encodings, background and ray space)."""

from __future__ import annotations

from pathlib import Path

import torch

from .nerf import NerfConfig, NerfWeightsError, VanillaNerf

# run_nerf.py's config_parser defaults of the settings that change what a trained network renders
DEFAULTS = {
    "netdepth": 8, "netwidth": 256, "netdepth_fine": 8, "netwidth_fine": 256, "N_samples": 64, "N_importance": 0,
    "use_viewdirs": False, "i_embed": 0, "multires": 10, "multires_views": 4, "raw_noise_std": 0.0,
    "white_bkgd": False, "lindisp": False, "no_ndc": False,
}
SETTINGS_FILES = ("config.txt", "args.txt")  # nerf-pytorch writes both beside its .tar files; args.txt (every
#                                            argument, defaults included) has the last word
PAPER_FINE_SAMPLES = 128  # without a settings file: the paper's teacher (nerf-pytorch's Blender configs)
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "1"), ("false", "no", "0", "none", "")
KIND_WORDS = {bool: "True or False", int: "a whole number", float: "a number"}


def read_weights(path: str | Path) -> tuple[dict, dict | None]:
    """The coarse and fine state dicts of a nerf-pytorch `.tar` (fine None when it has none)."""
    path = Path(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise NerfWeightsError(f"{path}: no such file") from None
    except Exception as exc:  # the loader raises many kinds for files that are not torch checkpoints
        raise NerfWeightsError(f"{path}: not a readable nerf-pytorch checkpoint ({type(exc).__name__})") from None
    if not isinstance(data, dict) or "network_fn_state_dict" not in data:
        raise NerfWeightsError(f"{path}: has no 'network_fn_state_dict'; is it a nerf-pytorch checkpoint?")
    return data["network_fn_state_dict"], data.get("network_fine_state_dict") or None


def parse_setting(key: str, value: str, origin: str):
    """One nerf-pytorch setting from its text (`True`, `64`, `1e0`), as the type of its default."""
    kind = type(DEFAULTS[key])
    text = value.strip().strip("'\"")
    try:
        if kind is bool:
            if text.lower() not in TRUE_WORDS + FALSE_WORDS:
                raise ValueError(text)
            return text.lower() in TRUE_WORDS
        return kind(float(text)) if kind is int and float(text).is_integer() else kind(text)
    except ValueError:
        shown = value.strip()
        raise NerfWeightsError(f"{origin}: {key} = {shown!r} is not {KIND_WORDS[kind]}; fix the value") from None


def parse_settings(text: str, origin: str) -> dict:
    """The rendering settings in nerf-pytorch's config text (`key = value` lines, `#` comments; args.txt or a
    configargparse file); other keys are ignored."""
    settings = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        key, sep, value = line.partition("=") if "=" in line else line.partition(":")
        key = key.strip().lstrip("-")
        if sep and key in DEFAULTS:
            settings[key] = parse_setting(key, value, origin)
    return settings


def settings_beside(weights: str | Path) -> tuple[dict, list[str]]:
    """The settings in the config files nerf-pytorch wrote beside a checkpoint, and which files held them."""
    found, sources = {}, []
    for name in SETTINGS_FILES:
        path = Path(weights).parent / name
        if path.is_file():
            found |= parse_settings(path.read_text(errors="replace"), str(path))
            sources.append(name)
    return found, sources


def frequencies_of(in_features: int) -> int:
    """The positional-encoding octaves behind an input width of 3 (2L + 1)."""
    return max(0, (in_features // 3 - 1) // 2)


def settings_of_weights(fn: dict, fine: dict | None) -> dict:
    """What the weights themselves tell: network shapes, encodings, view directions, whether a fine network
    exists (then the paper's 128 fine samples, as before settings files were read)."""
    depth = sum(1 for k in fn if k.startswith("pts_linears.") and k.endswith(".weight"))
    width, in_pos = fn["pts_linears.0.weight"].shape
    settings = {"netdepth": depth, "netwidth": width, "multires": frequencies_of(in_pos),
                "use_viewdirs": "feature_linear.weight" in fn, "N_importance": PAPER_FINE_SAMPLES if fine else 0}
    if settings["use_viewdirs"]:
        settings["multires_views"] = frequencies_of(fn["views_linears.0.weight"].shape[1] - width)
    fine = fine or fn
    settings["netdepth_fine"] = sum(1 for k in fine if k.startswith("pts_linears.") and k.endswith(".weight"))
    settings["netwidth_fine"] = fine["pts_linears.0.weight"].shape[0]
    return settings


def nerf_pytorch_settings(weights: str | Path, fn: dict, fine: dict | None,
                          overrides: dict[str, str] | None = None) -> tuple[dict, list[str]]:
    """nerf-pytorch's rendering settings of a checkpoint: from args.txt / config.txt beside it when present (its
    defaults for what they leave out), else from the weights; `overrides` (text values, e.g. from the command
    line) last. Returns the settings and where they came from."""
    found, sources = settings_beside(weights)
    if sources:
        settings = DEFAULTS | found
    else:
        settings = DEFAULTS | settings_of_weights(fn, fine) | {"white_bkgd": None}  # None: the dataset's background
        sources = ["weights"]
    for key, value in (overrides or {}).items():
        if key not in DEFAULTS:
            raise NerfWeightsError(f"--nerf-arg {key}: not a rendering setting; use one of {', '.join(DEFAULTS)}")
        settings[key] = parse_setting(key, value, f"--nerf-arg {key}")
    if overrides:
        sources.append("command line")
    return settings, sources


def network_fields(settings: dict) -> dict:
    """The NerfConfig fields that `settings` decide whatever the scene: networks, encodings, samples, and rays
    through pixel corners (nerf-pytorch's get_rays)."""
    if settings["i_embed"] not in (0, -1):
        raise NerfWeightsError(f"i_embed = {settings['i_embed']}: only nerf-pytorch's positional encoding (0) or none "
                               "(-1) can be imported")
    encoded = settings["i_embed"] == 0
    return dict(
        depth=settings["netdepth"], width=settings["netwidth"], skip=4,
        position_frequencies=settings["multires"] if encoded else 0,
        direction_frequencies=settings["multires_views"] if encoded else 0,
        coarse_samples=settings["N_samples"], fine_samples=settings["N_importance"],
        density_noise=settings["raw_noise_std"], view_directions=settings["use_viewdirs"],
        fine_depth=settings["netdepth_fine"], fine_width=settings["netwidth_fine"], lindisp=settings["lindisp"],
        pixel_offset=0.0,
    )


def nerf_config(settings: dict, meta) -> NerfConfig:
    """The NerfConfig that renders as nerf-pytorch does with `settings` on the scene `meta`: NDC for forward-facing
    scenes unless no_ndc (then the dataset's near/far, as nerf-pytorch's), white or black behind."""
    bounds = meta.model_bounds()
    if settings["no_ndc"] and bounds["ndc"] is not None:
        bounds |= {"near": meta.near, "far": meta.far, "ndc": None}
    if settings["white_bkgd"] is not None:
        bounds["background"] = (1.0, 1.0, 1.0) if settings["white_bkgd"] else (0.0, 0.0, 0.0)
    return NerfConfig(**network_fields(settings), **bounds)


def _fitted(state: dict, net) -> dict:
    """A state dict for `net`: nerf-pytorch gives a network without view directions 5 raw outputs when it has a
    fine network (the fifth unused); keep the rows `net` has."""
    if "output_linear.weight" not in state:
        return state
    rows = net.output_linear.weight.shape[0]
    return state | {k: state[k][:rows] for k in ("output_linear.weight", "output_linear.bias")}


def load_nerf_pytorch(path: str | Path, config: NerfConfig | None = None) -> VanillaNerf:
    """A VanillaNerf with the weights of a nerf-pytorch `.tar` (network_fn_state_dict, network_fine_state_dict);
    without `config`, one with the shapes the weights have and NerfConfig's scene bounds (the fine pass reuses the
    coarse network where the checkpoint has no fine one, as nerf-pytorch does)."""
    fn, fine = read_weights(path)
    if config is None:
        config = NerfConfig(**network_fields(DEFAULTS | settings_of_weights(fn, fine)))
    model = VanillaNerf(config)
    try:
        model.coarse.load_state_dict(_fitted(fn, model.coarse))
        if model.fine is not None:
            model.fine.load_state_dict(_fitted(fine or fn, model.fine))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        reason = first[1].strip() if len(first) > 1 else first[0]
        raise NerfWeightsError(f"{path}: weights do not fit the network ({reason})") from None
    return model
