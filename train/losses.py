"""Losses of vec2vec (Jha et al. 2025, section 3.2), as pure functions of tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def lsgan_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN, discriminator side: 1/2 [E D(real)^2 + E (D(fake) - 1)^2] (released code's
    labels: real -> 0, fake -> 1)."""
    return 0.5 * (real_scores.pow(2).mean() + (fake_scores - 1).pow(2).mean())


def lsgan_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN, generator side: 1/2 E D(fake)^2 (make fakes score like reals)."""
    return 0.5 * fake_scores.pow(2).mean()


def reconstruction_loss(x: torch.Tensor, reconstructed: torch.Tensor) -> torch.Tensor:
    """1 - cos(x, R(x)), section 3.2 'reconstruction'."""
    return (1 - F.cosine_similarity(x, reconstructed, dim=-1)).mean()


def cycle_loss(x: torch.Tensor, cycled: torch.Tensor) -> torch.Tensor:
    """1 - cos(x, F2(F1(x))), section 3.2 'cycle consistency'."""
    return (1 - F.cosine_similarity(x, cycled, dim=-1)).mean()


def vsp_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Vector-space preservation: mean |A A^T - B B^T| over a batch of L2-normalised rows, so pairwise
    similarities survive the map (section 3.2)."""
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    return (a @ a.T - b @ b.T).abs().mean()
