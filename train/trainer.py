"""Adversarial training of :class:`~v2v_store.train.model.Vec2Vec` from unpaired vectors.

One short method per phase, as in MUSE's trainer: :meth:`GanTrainer.discriminator_step`,
:meth:`GanTrainer.generator_step`, :meth:`GanTrainer.evaluate`, :meth:`GanTrainer.save_checkpoint`.
Model selection uses a named label-free criterion (mean CSLS of translations to real target
vectors, both directions), never paired data.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from v2v_store.metrics import mean_csls_to_target, paired_metrics

from .losses import (
    cycle_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
    reconstruction_loss,
    vsp_loss,
)
from .model import Discriminator, Vec2Vec, Vec2VecConfig, VspOn

logger = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Optimisation settings; defaults are the paper's (Adam 2e-5 / 1e-5, betas (0.5, 0.999),
    2000 warm-up steps, batch 256 per space)."""

    steps: int = 50_000
    batch_size: int = 256
    lr_generator: float = 2e-5
    lr_discriminator: float = 1e-5
    betas: tuple[float, float] = (0.5, 0.999)
    warmup_steps: int = 2000
    seed: int = 0
    device: str | None = None
    eval_every: int = 500
    log_every: int = 100
    checkpoint_every: int = 1000

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)  # JSON gives lists
        if self.steps < 1 or self.batch_size < 2:
            raise ValueError(f"steps ({self.steps}) must be >= 1 and batch_size ({self.batch_size}) >= 2")


PRESETS: dict[str, tuple[Vec2VecConfig, TrainConfig]] = {
    # The paper's configuration. GPU-days per pair in the paper.
    "paper": (Vec2VecConfig(), TrainConfig()),
    # Trains in minutes on a 2-core CPU: narrower, shallower, larger learning rates, short warm-up.
    # Both small presets use the released code's blocks and spectral-normalised discriminators: on synthetic
    # views (benchmarks/probes, gan_block.py) the paper-text blocks never left top-1 0.002-0.01; with these,
    # one random draw of four reached 0.6-0.8 (the others stayed near zero).
    "small": (
        Vec2VecConfig(latent_dim=256, adapter_depth=2, backbone_depth=2, disc_depth=3, disc_width=256, block_style="code"),
        TrainConfig(steps=3000, batch_size=128, lr_generator=2e-4, lr_discriminator=1e-4, warmup_steps=200,
                    eval_every=250, checkpoint_every=500),
    ),
    # Test size: seconds.
    "tiny": (
        Vec2VecConfig(latent_dim=128, adapter_depth=2, backbone_depth=1, disc_depth=2, disc_width=128, dropout=0.0,
                      block_style="code"),
        TrainConfig(steps=600, batch_size=128, lr_generator=1e-3, lr_discriminator=5e-4, warmup_steps=50,
                    eval_every=100, checkpoint_every=200),
    ),
}


@dataclass
class StepLosses:
    discriminator: float = 0.0
    adversarial: float = 0.0
    reconstruction: float = 0.0
    cycle: float = 0.0
    vsp: float = 0.0


@dataclass
class Evaluation:
    step: int
    csls: float  # label-free: mean CSLS of translations to real targets (both directions)
    cycle_cos: float  # label-free: mean cos(x, F2(F1(x)))
    disc_accuracy: float  # label-free: output discriminators' accuracy on held-back vectors
    paired: dict = field(default_factory=dict)  # paper metrics when eval pairs are given


def _lr_lambda(warmup: int) -> Callable[[int], float]:
    return lambda step: min(1.0, (step + 1) / max(1, warmup))


class GanTrainer:
    """Trains the translator between spaces ``names[0]`` (source) and ``names[1]`` (target)."""

    def __init__(self, model_cfg: Vec2VecConfig, train_cfg: TrainConfig, source: np.ndarray, target: np.ndarray,
                 names: tuple[str, str] = ("source", "target"),
                 eval_pairs: tuple[np.ndarray, np.ndarray] | None = None,
                 linear_base: dict[str, tuple] | None = None):
        """``linear_base``: warm start, {space: (mean, projection) or (mean, projection, decode)} of a linear
        translator that the network refines (needs ``model_cfg.base_dim`` = the projection's width)."""
        self.model_cfg, self.cfg, self.names = model_cfg, train_cfg, names
        self.device = torch.device(train_cfg.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        logger.info("training on %s", self.device)
        torch.manual_seed(train_cfg.seed)
        self.gen = torch.Generator().manual_seed(train_cfg.seed)
        # hold back a slice of each side for label-free evaluation
        self.data, self.held = {}, {}
        for name, arr in zip(names, (source, target)):
            t = F.normalize(torch.as_tensor(np.asarray(arr, np.float32)), dim=-1)
            perm = torch.randperm(len(t), generator=self.gen)
            n_held = min(2048, len(t) // 10)
            # training vectors live on the device: a batch is a gather there, not a host copy per step
            self.held[name], self.data[name] = t[perm[:n_held]], t[perm[n_held:]].to(self.device)
        dims = {n: self.data[n].shape[1] for n in names}
        self.model = Vec2Vec(model_cfg, dims).to(self.device)
        if linear_base is not None:
            if not model_cfg.base_dim:
                raise ValueError("a linear_base needs model_cfg.base_dim set to the width of its projections")
            for name, base in linear_base.items():
                self.model.set_linear_base(name, *(torch.as_tensor(t) for t in base))
        n_lat = model_cfg.latent_discriminators
        self.discs = torch.nn.ModuleDict(
            {f"out_{n}": Discriminator(d, model_cfg.disc_width, model_cfg.disc_depth, model_cfg.block_style) for n, d in dims.items()}
            | {f"lat_{i}": Discriminator(model_cfg.latent_dim, model_cfg.disc_width, model_cfg.disc_depth, model_cfg.block_style)
               for i in range(n_lat)}
        ).to(self.device)
        fused = self.device.type == "cuda"  # one kernel per optimiser step instead of several per parameter
        self.opt_g = torch.optim.Adam(self.model.parameters(), lr=train_cfg.lr_generator, betas=train_cfg.betas, fused=fused)
        self.opt_d = torch.optim.Adam(self.discs.parameters(), lr=train_cfg.lr_discriminator, betas=train_cfg.betas, fused=fused)
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, _lr_lambda(train_cfg.warmup_steps))
        self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, _lr_lambda(train_cfg.warmup_steps))
        # CUDA: float16 autocast; one loss scaler per optimiser (each skips its own overflowing steps)
        self.use_amp = self.device.type == "cuda"
        self.scaler_d = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.scaler_g = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.eval_pairs = eval_pairs
        self.step = 0
        self.best_score, self.best_step = -math.inf, -1
        self.best_state: dict[str, torch.Tensor] | None = None
        self.history: list[Evaluation] = []

    # -- data ----------------------------------------------------------------------------------
    def _batch(self, name: str) -> torch.Tensor:
        idx = torch.randint(len(self.data[name]), (self.cfg.batch_size,), generator=self.gen)  # CPU generator: reproducible
        return self.data[name][idx.to(self.device)]

    def _autocast(self):
        return torch.autocast("cuda", dtype=torch.float16, enabled=self.use_amp)

    # -- phases --------------------------------------------------------------------------------
    def _forward(self, x: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        s, t = self.names
        lat = {n: self.model.encode(x[n], n) for n in self.names}
        out = {f"lat_{n}": lat[n] for n in self.names}
        out[f"{s}->{t}"] = self.model.decode(lat[s], t)
        out[f"{t}->{s}"] = self.model.decode(lat[t], s)
        out[f"{s}->{s}"] = self.model.decode(lat[s], s)
        out[f"{t}->{t}"] = self.model.decode(lat[t], t)
        return out

    def discriminator_step(self, x: dict[str, torch.Tensor]) -> float:
        s, t = self.names
        with torch.no_grad(), self._autocast():
            out = self._forward(x)
        with self._autocast():
            loss = lsgan_discriminator_loss(self.discs[f"out_{t}"](x[t]), self.discs[f"out_{t}"](out[f"{s}->{t}"].detach()))
            loss = loss + lsgan_discriminator_loss(self.discs[f"out_{s}"](x[s]), self.discs[f"out_{s}"](out[f"{t}->{s}"].detach()))
            # latent game: each space's latents should be indistinguishable from the other's
            if "lat_1" in self.discs:
                loss = loss + lsgan_discriminator_loss(self.discs["lat_0"](out[f"lat_{t}"].detach()), self.discs["lat_0"](out[f"lat_{s}"].detach()))
                loss = loss + lsgan_discriminator_loss(self.discs["lat_1"](out[f"lat_{s}"].detach()), self.discs["lat_1"](out[f"lat_{t}"].detach()))
            else:
                loss = loss + lsgan_discriminator_loss(self.discs["lat_0"](out[f"lat_{t}"].detach()), self.discs["lat_0"](out[f"lat_{s}"].detach()))
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler_d.scale(loss).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        self.sched_d.step()
        return loss.item()

    def generator_step(self, x: dict[str, torch.Tensor]) -> StepLosses:
        s, t, c = *self.names, self.model_cfg
        with self._autocast():
            out = self._forward(x)
            adv = lsgan_generator_loss(self.discs[f"out_{t}"](out[f"{s}->{t}"])) + \
                lsgan_generator_loss(self.discs[f"out_{s}"](out[f"{t}->{s}"]))
            if "lat_1" in self.discs:
                lat_adv = lsgan_generator_loss(self.discs["lat_1"](out[f"lat_{t}"])) + \
                    lsgan_generator_loss(self.discs["lat_0"](out[f"lat_{s}"]))
            else:  # fool the shared latent discriminator: source latents scored as target ones
                lat_adv = lsgan_generator_loss(self.discs["lat_0"](out[f"lat_{s}"]))
            rec = reconstruction_loss(x[s], out[f"{s}->{s}"]) + reconstruction_loss(x[t], out[f"{t}->{t}"])
            # released code detaches the first hop of the cycle
            cyc = cycle_loss(x[s], self.model.translate(out[f"{s}->{t}"].detach(), t, s)) + \
                cycle_loss(x[t], self.model.translate(out[f"{t}->{s}"].detach(), s, t))
            if c.vsp_on == VspOn.TRANSLATION:
                vsp = vsp_loss(x[s], out[f"{s}->{t}"]) + vsp_loss(x[t], out[f"{t}->{s}"])
            else:
                vsp = vsp_loss(x[s], out[f"{s}->{s}"]) + vsp_loss(x[t], out[f"{t}->{t}"])
            loss = c.w_adv * adv + c.w_latent_adv * lat_adv + c.w_rec * rec + c.w_cycle * cyc + c.w_vsp * vsp
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        self.sched_g.step()
        adv, rec, cyc, vsp = torch.stack([v.detach().float() for v in (adv + lat_adv, rec, cyc, vsp)]).tolist()  # one device sync instead of five .item() calls
        return StepLosses(0.0, adv, rec, cyc, vsp)

    @torch.no_grad()
    def translate(self, vectors: np.ndarray, source: str, target: str, batch: int = 4096) -> np.ndarray:
        self.model.eval()
        out = [self.model.translate(torch.as_tensor(vectors[i:i + batch], dtype=torch.float32, device=self.device),
                                    source, target).float().cpu().numpy() for i in range(0, len(vectors), batch)]
        self.model.train()
        return np.concatenate(out)

    @torch.no_grad()
    def evaluate(self) -> Evaluation:
        s, t = self.names
        hs, ht = self.held[s].numpy(), self.held[t].numpy()
        fwd, bwd = self.translate(hs, s, t), self.translate(ht, t, s)
        csls = 0.5 * (mean_csls_to_target(fwd, ht) + mean_csls_to_target(bwd, hs))
        cyc = 0.5 * (float(np.mean(np.sum(self.translate(fwd, t, s) * hs, 1))) +
                     float(np.mean(np.sum(self.translate(bwd, s, t) * ht, 1))))
        self.discs.eval()
        acc = []
        for name, fake in ((t, fwd), (s, bwd)):
            d = self.discs[f"out_{name}"]
            real_scores = d(self.held[name].to(self.device)).float()
            fake_scores = d(torch.as_tensor(fake, device=self.device)).float()
            acc.append(0.5 * ((real_scores < 0.5).float().mean() + (fake_scores >= 0.5).float().mean()).item())
        self.discs.train()
        ev = Evaluation(self.step, csls, cyc, float(np.mean(acc)))
        if self.eval_pairs is not None:
            u, v = self.eval_pairs
            ev.paired = {f"{s}->{t}": paired_metrics(self.translate(u, s, t), v).to_dict(),
                         f"{t}->{s}": paired_metrics(self.translate(v, t, s), u).to_dict()}
        return ev

    # -- loop ----------------------------------------------------------------------------------
    def train(self, checkpoint_dir: str | Path | None = None, progress: bool = True) -> Evaluation:
        """Run to ``cfg.steps``, resuming from ``checkpoint_dir`` if it holds a checkpoint."""
        from tqdm import tqdm

        if checkpoint_dir is not None and (Path(checkpoint_dir) / "checkpoint.pt").exists():
            self.load_checkpoint(checkpoint_dir)
        self.model.train()
        bar = tqdm(total=self.cfg.steps, initial=self.step, disable=not progress or not os.isatty(2), desc="fit")
        t0, t_step0 = time.perf_counter(), self.step
        if self.step == 0 and self.model.base_dim:
            self._evaluate_and_select()  # the warm start itself is a candidate: refinement must beat it
        while self.step < self.cfg.steps:
            x = {n: self._batch(n) for n in self.names}
            d_loss = self.discriminator_step(x)
            losses = self.generator_step(x)
            losses.discriminator = d_loss
            self.step += 1
            bar.update(1)
            if self.step % self.cfg.log_every == 0:
                rate = (time.perf_counter() - t0) / max(1, self.step - t_step0)
                logger.info("__log__:%s", json.dumps({"step": self.step, "s_per_step": round(rate, 4),
                                                      **{k: round(v, 5) for k, v in asdict(losses).items()}}))
            if self.step % self.cfg.eval_every == 0 or self.step == self.cfg.steps:
                self._evaluate_and_select()
            if checkpoint_dir is not None and (self.step % self.cfg.checkpoint_every == 0 or self.step == self.cfg.steps):
                self.save_checkpoint(checkpoint_dir)
        bar.close()
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        return self.history[-1] if self.history else self.evaluate()

    def _evaluate_and_select(self) -> None:
        ev = self.evaluate()
        self.history.append(ev)
        logger.info("__log__:%s", json.dumps({"eval": asdict(ev)}))
        if ev.csls > self.best_score:  # label-free model selection
            self.best_score, self.best_step = ev.csls, ev.step
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    # -- checkpoints ---------------------------------------------------------------------------
    def save_checkpoint(self, directory: str | Path) -> None:
        """Everything needed to resume: model, discriminators, optimisers, schedulers, RNG, step, best."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {
            "model": self.model.state_dict(), "discs": self.discs.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "sched_g": self.sched_g.state_dict(), "sched_d": self.sched_d.state_dict(),
            "scaler_d": self.scaler_d.state_dict(), "scaler_g": self.scaler_g.state_dict(),
            "gen": self.gen.get_state(), "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else torch.empty(0, dtype=torch.uint8),
            "step": self.step, "best_score": self.best_score, "best_step": self.best_step,
            "best_state": self.best_state,
            "history": json.dumps([asdict(e) for e in self.history]),
            "model_cfg": json.dumps(self.model_cfg.to_dict()), "train_cfg": json.dumps(asdict(self.cfg)),
        }
        tmp = directory / "checkpoint.pt.tmp"
        torch.save(state, tmp)
        os.replace(tmp, directory / "checkpoint.pt")

    def load_checkpoint(self, directory: str | Path) -> None:
        state = torch.load(Path(directory) / "checkpoint.pt", map_location=self.device, weights_only=True)
        saved_cfg = json.loads(state["model_cfg"])
        if saved_cfg != self.model_cfg.to_dict():
            raise ValueError(f"checkpoint in {directory} was made with a different model config: {saved_cfg}")
        self.model.load_state_dict(state["model"])
        self.discs.load_state_dict(state["discs"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.sched_g.load_state_dict(state["sched_g"])
        self.sched_d.load_state_dict(state["sched_d"])
        if "scaler_d" in state:  # checkpoints written before the CUDA path kept its loss scales lack them
            self.scaler_d.load_state_dict(state["scaler_d"])
            self.scaler_g.load_state_dict(state["scaler_g"])
        self.gen.set_state(state["gen"].cpu())
        torch.set_rng_state(state["torch_rng"].cpu())
        if self.device.type == "cuda" and state.get("cuda_rng", torch.empty(0)).numel():
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), self.device)
        self.step, self.best_score, self.best_step = state["step"], state["best_score"], state["best_step"]
        self.best_state = state["best_state"]
        self.history = [Evaluation(**e) for e in json.loads(state["history"])]
        logger.info("resumed from %s at step %d", directory, self.step)


def preset(name: str, **overrides) -> tuple[Vec2VecConfig, TrainConfig]:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}: choose one of {sorted(PRESETS)}")
    model_cfg, train_cfg = PRESETS[name]
    train_cfg = replace(train_cfg, **{k: v for k, v in overrides.items() if v is not None})
    return replace(model_cfg), train_cfg
