"""The vec2vec network (Jha et al. 2025, section 3): per-space input adapters into a shared latent,
a shared backbone, per-space output adapters, and the discriminators of the adversarial game.

Translation ``F_{s->t} = B_t . T . A_s``, reconstruction ``R_s = B_s . T . A_s``. The latent a
discriminator sees is the backbone's output. Every output vector is L2-normalised.

Warm start (``base_dim > 0``): the network is the residual of a fixed linear translator (e.g. the
unsupervised aligner's map). ``encode = L_s(x) + g_s * T(A_s(x))`` and ``decode = unit(L_t^T(z) +
h_t * B_t(z))`` with scalar gates g, h initialised to zero (ReZero, Bachlechner et al. 2020), so
training starts exactly at the linear map and the adversarial game can only move away from it as
far as its losses ask.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from v2v_store.train.linear import linear_decode, linear_encode


class Norm(str, enum.Enum):
    LAYER = "layer"  # the paper's text
    BATCH = "batch"  # the released configuration


class VspOn(str, enum.Enum):
    TRANSLATION = "translation"  # the paper: Gram of source batch vs Gram of its translations
    RECONSTRUCTION = "reconstruction"  # the released code


@dataclass
class Vec2VecConfig:
    """Architecture and loss weights; defaults are the paper's (``configs/unsupervised.toml``)."""

    latent_dim: int = field(default=1024, metadata={"help": "width Z of adapters, backbone and latent"})
    adapter_depth: int = 3
    backbone_depth: int = 4
    dropout: float = 0.1
    norm: Norm = Norm.LAYER
    disc_depth: int = 5
    disc_width: int = 1024
    latent_discriminators: int = field(default=2, metadata={"help": "2: one per space (paper), 1: shared (code)"})
    vsp_on: VspOn = VspOn.TRANSLATION
    block_style: str = field(default="text", metadata={"help": "residual blocks as the paper's text describes them "
                                                                 "(text: Linear-SiLU-Norm-Dropout, Kaiming init) or as its "
                                                                 "released code builds them (code: Linear-SiLU-Dropout-Norm, "
                                                                 "a last block ending in a plain Linear, N(0, 0.02) init)"})
    w_rec: float = 1.0
    w_cycle: float = 10.0
    w_vsp: float = 1.0
    w_adv: float = 1.0
    w_latent_adv: float = 1.0
    base_dim: int = field(default=0, metadata={"help": "latent width of a linear base map to refine (0: none)"})

    def __post_init__(self) -> None:
        self.norm, self.vsp_on = Norm(self.norm), VspOn(self.vsp_on)
        if self.block_style not in ("text", "code"):
            raise ValueError(f"block_style must be 'text' or 'code', got {self.block_style!r}")
        if self.latent_discriminators not in (1, 2):
            raise ValueError(f"latent_discriminators must be 1 or 2, got {self.latent_discriminators}")
        for name in ("latent_dim", "adapter_depth", "backbone_depth", "disc_depth", "disc_width"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["norm"], d["vsp_on"] = self.norm.value, self.vsp_on.value
        return d


def _fit_width(x: torch.Tensor, width: int) -> torch.Tensor:
    """Zero-pad or truncate the last dimension to ``width`` (the residual across a width change)."""
    d = x.shape[-1]
    if d == width:
        return x
    return F.pad(x, (0, width - d)) if d < width else x[..., :width]


class ResidualBlock(nn.Module):
    """Linear -> SiLU -> Norm -> Dropout, plus the (padded/truncated) input."""

    def __init__(self, d_in: int, d_out: int, norm: Norm, dropout: float):
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        self.norm = nn.LayerNorm(d_out) if norm == Norm.LAYER else nn.BatchNorm1d(d_out)
        self.dropout = nn.Dropout(dropout)
        self.d_out = d_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.norm(F.silu(self.linear(x)))) + _fit_width(x, self.d_out)


class CodeBlock(nn.Module):
    """The released code's block: Linear -> SiLU -> Dropout -> Norm; the last block of a stack instead
    Linear -> Dropout -> SiLU -> Linear, so the stack's output is not normalised. Plus the input."""

    def __init__(self, d_in: int, d_out: int, norm: Norm, dropout: float, last: bool):
        super().__init__()
        if last:
            self.body = nn.Sequential(nn.Linear(d_in, d_in), nn.Dropout(dropout), nn.SiLU(), nn.Linear(d_in, d_out))
        else:
            self.body = nn.Sequential(nn.Linear(d_in, d_out), nn.SiLU(), nn.Dropout(dropout),
                                      nn.LayerNorm(d_out) if norm == Norm.LAYER else nn.BatchNorm1d(d_out))
        self.d_out = d_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + _fit_width(x, self.d_out)


class ResidualMLP(nn.Sequential):
    def __init__(self, d_in: int, d_out: int, width: int, depth: int, norm: Norm, dropout: float, style: str = "text"):
        dims = [d_in] + [width] * (depth - 1) + [d_out]
        if style == "code":
            blocks = [CodeBlock(a, b, norm, dropout, last=i == depth - 1 and depth > 1)
                      for i, (a, b) in enumerate(zip(dims[:-1], dims[1:]))]
        else:
            blocks = [ResidualBlock(a, b, norm, dropout) for a, b in zip(dims[:-1], dims[1:])]
        super().__init__(*blocks)


def _init(module: nn.Module, code: bool = False) -> None:
    """Linear layers: Kaiming normal (paper text) or N(0, 0.02) (released code); zero biases."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.02) if code else nn.init.kaiming_normal_(module.weight)
        nn.init.zeros_(module.bias)


def _spectral_linear(d_in: int, d_out: int) -> nn.Module:
    layer = nn.Linear(d_in, d_out)
    _init(layer, code=True)  # before wrapping: afterwards ``layer.weight`` is a computed tensor, not the parameter
    return nn.utils.parametrizations.spectral_norm(layer)


class Vec2Vec(nn.Module):
    """Adapters and backbone for a set of named spaces (two in practice)."""

    def __init__(self, cfg: Vec2VecConfig, dims: dict[str, int]):
        super().__init__()
        z = cfg.latent_dim
        mlp = lambda a, b, depth: ResidualMLP(a, b, z, depth, cfg.norm, cfg.dropout, cfg.block_style)  # noqa: E731
        self.inputs = nn.ModuleDict({n: mlp(d, z, cfg.adapter_depth) for n, d in dims.items()})
        self.backbone = mlp(z, z, cfg.backbone_depth)
        self.outputs = nn.ModuleDict({n: mlp(z, d, cfg.adapter_depth) for n, d in dims.items()})
        self.apply(lambda m: _init(m, code=cfg.block_style == "code"))
        self.base_dim = cfg.base_dim
        if cfg.base_dim:
            if cfg.base_dim > z:
                raise ValueError(f"base_dim={cfg.base_dim} must not exceed latent_dim={z}")
            for n, d in dims.items():
                self.register_buffer(f"base_mean_{n}", torch.zeros(d))
                self.register_buffer(f"base_proj_{n}", torch.zeros(d, cfg.base_dim))
                self.register_buffer(f"base_decode_{n}", torch.zeros(cfg.base_dim, d))
            self.gate_in = nn.ParameterDict({n: nn.Parameter(torch.zeros(())) for n in dims})
            self.gate_out = nn.ParameterDict({n: nn.Parameter(torch.zeros(())) for n in dims})

    def set_linear_base(self, space: str, mean: torch.Tensor, proj: torch.Tensor, decode: torch.Tensor | None = None) -> None:
        """The linear map of ``space`` into the shared latent, ``unit(unit(x) - mean) @ proj``, and back,
        ``unit(spread * unit(z @ decode) + mean)`` (:func:`linear_decode`; ``decode`` None: ``proj.T``, an orthogonal
        map)."""
        proj = torch.as_tensor(proj)
        getattr(self, f"base_mean_{space}").copy_(torch.as_tensor(mean))
        getattr(self, f"base_proj_{space}").copy_(proj)
        getattr(self, f"base_decode_{space}").copy_(proj.T if decode is None else torch.as_tensor(decode))

    def encode(self, x: torch.Tensor, space: str) -> torch.Tensor:
        x = F.normalize(x, dim=-1)  # inputs are L2-normalised embeddings
        z = self.backbone(self.inputs[space](x))  # (B, d_space) -> (B, Z)
        if not self.base_dim:
            return z
        linear = linear_encode(x, getattr(self, f"base_mean_{space}"), getattr(self, f"base_proj_{space}"))
        return _fit_width(linear, z.shape[-1]) + self.gate_in[space] * z

    def decode(self, z: torch.Tensor, space: str) -> torch.Tensor:
        out = self.outputs[space](z)  # (B, Z) -> (B, d_space)
        if not self.base_dim:
            return F.normalize(out, dim=-1)
        linear = linear_decode(_fit_width(z, self.base_dim), getattr(self, f"base_mean_{space}"),
                               getattr(self, f"base_decode_{space}"))
        return F.normalize(linear + self.gate_out[space] * out, dim=-1)

    def translate(self, x: torch.Tensor, source: str, target: str) -> torch.Tensor:
        return self.decode(self.encode(x, source), target)


class Discriminator(nn.Module):
    """Plain MLP (no residuals) scoring how 'real' a vector looks: Linear -> SiLU -> LayerNorm ... -> 1."""

    def __init__(self, d_in: int, width: int, depth: int, style: str = "text"):
        """``style="code"``: the released code's discriminator, spectral-normalised Linears and no norm layers."""
        super().__init__()
        layers: list[nn.Module] = []
        d = d_in
        linear = _spectral_linear if style == "code" else nn.Linear
        for _ in range(depth - 1):
            layers += [linear(d, width), nn.SiLU()] + ([] if style == "code" else [nn.LayerNorm(width)])
            d = width
        layers.append(linear(d, 1))
        self.net = nn.Sequential(*layers)
        if style != "code":  # code style: initialised before the spectral normalisation wraps the weight
            self.apply(_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)
