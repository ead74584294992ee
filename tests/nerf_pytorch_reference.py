"""An independent transcription of nerf-pytorch's rendering (yenchenlin/nerf-pytorch run_nerf.py and
run_nerf_helpers.py: NeRF, the embedder, get_rays, ndc_rays, raw2outputs, sample_pdf, render_rays), deterministic
(perturb 0, raw_noise_std 0, det=True) as its render_kwargs_test are; nothing here comes from r2l_viewer."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class NerfPytorchNet(nn.Module):
    """nerf-pytorch's NeRF: D trunk layers of width W, the input again after layer 4, then either view-dependent
    heads (alpha, feature, views_linears, rgb) or one output_linear."""

    def __init__(self, D, W, input_ch, input_ch_views, output_ch, use_viewdirs):
        super().__init__()
        self.input_ch, self.input_ch_views, self.use_viewdirs, self.skips = input_ch, input_ch_views, use_viewdirs, [4]
        self.pts_linears = nn.ModuleList(
            [nn.Linear(input_ch, W)] + [nn.Linear(W + (input_ch if i in self.skips else 0), W) for i in range(D - 1)])
        self.views_linears = nn.ModuleList([nn.Linear(input_ch_views + W, W // 2)])
        if use_viewdirs:
            self.feature_linear = nn.Linear(W, W)
            self.alpha_linear = nn.Linear(W, 1)
            self.rgb_linear = nn.Linear(W // 2, 3)
        else:
            self.output_linear = nn.Linear(W, output_ch)

    def forward(self, x):
        input_pts, input_views = torch.split(x, [self.input_ch, self.input_ch_views], dim=-1)
        h = input_pts
        for i, layer in enumerate(self.pts_linears):
            h = F.relu(layer(h))
            if i in self.skips:
                h = torch.cat([input_pts, h], -1)
        if not self.use_viewdirs:
            return self.output_linear(h)
        alpha = self.alpha_linear(h)
        h = torch.cat([self.feature_linear(h), input_views], -1)
        for layer in self.views_linears:
            h = F.relu(layer(h))
        return torch.cat([self.rgb_linear(h), alpha], -1)


def embedder(multires, i_embed=0):
    """get_embedder: (function, output width); identity for i_embed -1."""
    if i_embed == -1:
        return (lambda x: x), 3
    freqs = 2.0 ** torch.linspace(0.0, multires - 1, steps=multires)
    fns = [lambda x: x] + [lambda x, p=p, f=f: p(x * f) for f in freqs for p in (torch.sin, torch.cos)]
    return (lambda x: torch.cat([fn(x) for fn in fns], -1)), 3 * len(fns)


def get_rays(H, W, K, c2w):
    i, j = torch.meshgrid(torch.linspace(0, W - 1, W), torch.linspace(0, H - 1, H), indexing="ij")
    i, j = i.t(), j.t()
    dirs = torch.stack([(i - K[0][2]) / K[0][0], -(j - K[1][2]) / K[1][1], -torch.ones_like(i)], -1)
    rays_d = torch.sum(dirs[..., None, :] * c2w[:3, :3], -1)
    return c2w[:3, -1].expand(rays_d.shape), rays_d


def ndc_rays(H, W, focal, near, rays_o, rays_d):
    t = -(near + rays_o[..., 2]) / rays_d[..., 2]
    rays_o = rays_o + t[..., None] * rays_d
    o0 = -1.0 / (W / (2.0 * focal)) * rays_o[..., 0] / rays_o[..., 2]
    o1 = -1.0 / (H / (2.0 * focal)) * rays_o[..., 1] / rays_o[..., 2]
    o2 = 1.0 + 2.0 * near / rays_o[..., 2]
    d0 = -1.0 / (W / (2.0 * focal)) * (rays_d[..., 0] / rays_d[..., 2] - rays_o[..., 0] / rays_o[..., 2])
    d1 = -1.0 / (H / (2.0 * focal)) * (rays_d[..., 1] / rays_d[..., 2] - rays_o[..., 1] / rays_o[..., 2])
    d2 = -2.0 * near / rays_o[..., 2]
    return torch.stack([o0, o1, o2], -1), torch.stack([d0, d1, d2], -1)


def raw2outputs(raw, z_vals, rays_d, white_bkgd):
    dists = z_vals[..., 1:] - z_vals[..., :-1]
    dists = torch.cat([dists, torch.Tensor([1e10]).expand(dists[..., :1].shape)], -1)
    dists = dists * torch.norm(rays_d[..., None, :], dim=-1)
    rgb = torch.sigmoid(raw[..., :3])
    alpha = 1.0 - torch.exp(-F.relu(raw[..., 3]) * dists)
    weights = alpha * torch.cumprod(torch.cat([torch.ones((alpha.shape[0], 1)), 1.0 - alpha + 1e-10], -1), -1)[:, :-1]
    rgb_map = torch.sum(weights[..., None] * rgb, -2)
    acc_map = torch.sum(weights, -1)
    if white_bkgd:
        rgb_map = rgb_map + (1.0 - acc_map[..., None])
    return rgb_map, weights


def sample_pdf(bins, weights, N_samples):
    weights = weights + 1e-5
    pdf = weights / torch.sum(weights, -1, keepdim=True)
    cdf = torch.cumsum(pdf, -1)
    cdf = torch.cat([torch.zeros_like(cdf[..., :1]), cdf], -1)
    u = torch.linspace(0.0, 1.0, steps=N_samples).expand(list(cdf.shape[:-1]) + [N_samples]).contiguous()
    inds = torch.searchsorted(cdf, u, right=True)
    below = torch.max(torch.zeros_like(inds - 1), inds - 1)
    above = torch.min((cdf.shape[-1] - 1) * torch.ones_like(inds), inds)
    inds_g = torch.stack([below, above], -1)
    matched_shape = [inds_g.shape[0], inds_g.shape[1], cdf.shape[-1]]
    cdf_g = torch.gather(cdf.unsqueeze(1).expand(matched_shape), 2, inds_g)
    bins_g = torch.gather(bins.unsqueeze(1).expand(matched_shape), 2, inds_g)
    denom = cdf_g[..., 1] - cdf_g[..., 0]
    denom = torch.where(denom < 1e-5, torch.ones_like(denom), denom)
    t = (u - cdf_g[..., 0]) / denom
    return bins_g[..., 0] + t * (bins_g[..., 1] - bins_g[..., 0])


def query(net, pts, viewdirs, embed_fn, embeddirs_fn):
    """run_network: embedded points (and view directions, one per ray) through a network."""
    flat = embed_fn(pts.reshape(-1, 3))
    if viewdirs is not None:
        flat = torch.cat([flat, embeddirs_fn(viewdirs[:, None].expand(pts.shape).reshape(-1, 3))], -1)
    return net(flat).reshape(list(pts.shape[:-1]) + [-1])


def render_rays(rays_o, rays_d, viewdirs, near, far, nets, args, lindisp):
    """render_rays with perturb 0 and raw_noise_std 0."""
    embed_fn, _ = embedder(args["multires"], args["i_embed"])
    embeddirs_fn, _ = embedder(args["multires_views"], args["i_embed"])
    t_vals = torch.linspace(0.0, 1.0, steps=args["N_samples"])
    if not lindisp:
        z_vals = near * (1.0 - t_vals) + far * t_vals
    else:
        z_vals = 1.0 / (1.0 / near * (1.0 - t_vals) + 1.0 / far * t_vals)
    z_vals = z_vals.expand([rays_o.shape[0], args["N_samples"]])
    pts = rays_o[..., None, :] + rays_d[..., None, :] * z_vals[..., :, None]
    rgb_map, weights = raw2outputs(query(nets[0], pts, viewdirs, embed_fn, embeddirs_fn), z_vals, rays_d,
                                   args["white_bkgd"])
    if args["N_importance"] > 0:
        z_vals_mid = 0.5 * (z_vals[..., 1:] + z_vals[..., :-1])
        z_samples = sample_pdf(z_vals_mid, weights[..., 1:-1], args["N_importance"])
        z_vals, _ = torch.sort(torch.cat([z_vals, z_samples], -1), -1)
        pts = rays_o[..., None, :] + rays_d[..., None, :] * z_vals[..., :, None]
        fine = nets[0] if nets[1] is None else nets[1]
        rgb_map, _ = raw2outputs(query(fine, pts, viewdirs, embed_fn, embeddirs_fn), z_vals, rays_d, args["white_bkgd"])
    return rgb_map


@torch.no_grad()
def render_image(H, W, focal, c2w, nets, args, near, far):
    """render(H, W, K, c2w=...) with create_nerf's test kwargs: NDC for llff unless no_ndc, lindisp only then."""
    K = [[focal, 0, 0.5 * W], [0, focal, 0.5 * H], [0, 0, 1]]
    rays_o, rays_d = get_rays(H, W, K, c2w)
    viewdirs = None
    if args["use_viewdirs"]:
        viewdirs = (rays_d / torch.norm(rays_d, dim=-1, keepdim=True)).reshape(-1, 3)
    ndc = not (args["dataset_type"] != "llff" or args["no_ndc"])
    lindisp = False if ndc else args["lindisp"]
    if ndc:
        rays_o, rays_d = ndc_rays(H, W, K[0][0], 1.0, rays_o, rays_d)
    rgb = render_rays(rays_o.reshape(-1, 3), rays_d.reshape(-1, 3), viewdirs, near, far, nets, args, lindisp)
    return rgb.reshape(H, W, 3)
