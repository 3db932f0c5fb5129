"""A saved translator: a directory with ``config.json`` and ``model.safetensors``. Never pickled.

Two kinds share one interface:

- ``linear``: a linear map of each space into a shared latent and back (:mod:`v2v_store.train.align`):
  orthogonal, or (format version 2) with a separate decode matrix per space (half-whitened maps);
- ``vec2vec``: the paper's adapters + backbone network (:mod:`v2v_store.train.model`).

Beside them, ``space_stats.safetensors`` (optional) holds the covariance of each space's fitting vectors, so that a
collection can be checked against the space it is said to be in (:mod:`v2v_store.space_check`).

``translate(vectors, source=, target=, role=)`` maps between the two spaces (as records to store, or as queries),
``to_latent(vectors, space=)``
into the shared latent (where vectors of both spaces can be compared directly). Inputs are numpy,
outputs are L2-normalised float32 numpy, computed in batches on any device.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from v2v_store.errors import DestinationExistsError, DimensionMismatchError, StoreNotFoundError, V2VError
from v2v_store.train.linear import center_unit, linear_decode, linear_decode_query, linear_encode, power_whitener

logger = logging.getLogger(__name__)
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: linear translators were orthogonal (no decode.* tensors)
RECORDS, QUERIES = "records", "queries"  # what translations are for (Translator.translate's ``role``)
QUERY_WEIGHTS = tuple(w / 4 for w in range(-4, 9))  # -1 .. 2: the weights calibrate_queries tries
QUERY_WHITEN = 0.5  # queries' directions times the target's covariance^(-QUERY_WHITEN/2) (Translator.query_decode)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


@dataclass
class Space:
    name: str
    dim: int


TRANSLATOR_FILES = frozenset({"config.json", "model.safetensors", "space_stats.safetensors"})
# what `v2v fit`'s checks measured, as saved in a translator's info: shown by `v2v inspect TRANSLATOR_DIR`
FIT_CHECKS = ("pairs_relatedness", "added_language_relatedness", "anchor_languages", "pairs_profile_correlation",
              "collection_profile_correlation", "document_check", "shared_documents", "pair_texts", "paired")


def is_translator_directory(path: str) -> bool:
    """Whether ``path`` (not a store URI) is a directory holding a saved translator."""
    return "://" not in path and all((Path(path) / name).is_file() for name in ("config.json", "model.safetensors"))


def check_translator_directory(directory: str | Path) -> None:
    """Refuse to save a translator over a directory that holds anything else (it would be replaced whole).

    A missing or empty directory, or a translator saved before, may be written; call this before a long fit so a
    wrong ``--out`` fails in a second, not after the fit."""
    directory = Path(os.path.abspath(directory))
    if Path.cwd() == directory or directory in Path.cwd().parents:
        raise DestinationExistsError(f"--out {directory} is the working directory (or holds it): a translator is "
                                     "saved by replacing its directory whole; give a subdirectory, e.g. --out translator")
    if directory.exists() and not directory.is_dir():
        raise DestinationExistsError(f"--out {directory} is a file, not a directory: give a new directory for the "
                                     "translator")
    others = sorted(p.name for p in directory.iterdir() if p.name not in TRANSLATOR_FILES) if directory.exists() else []
    if others:
        raise DestinationExistsError(
            f"--out {directory} holds files that are not a translator's ({', '.join(others[:5])}"
            f"{', ...' if len(others) > 5 else ''}): saving would replace the directory; give a new directory "
            "(a translator saved there before may be overwritten)")


class Translator:
    """Translate vectors between two named embedding spaces through a shared latent."""

    def __init__(self, kind: str, spaces: tuple[Space, Space], tensors: dict[str, torch.Tensor],
                 info: dict[str, Any] | None = None, model_config: dict[str, Any] | None = None,
                 device: str | None = None):
        if kind not in ("linear", "vec2vec"):
            raise V2VError(f"unknown translator kind {kind!r}: expected 'linear' or 'vec2vec'")
        if spaces[0].name == spaces[1].name:
            raise V2VError(f"the two spaces need different names, both are {spaces[0].name!r}")
        self.kind, self.spaces, self.info = kind, spaces, dict(info or {})
        self.model_config = dict(model_config or {})
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.tensors = {k: v.to(self.device) for k, v in tensors.items()}
        self.space_covariances: dict[str, np.ndarray] = {}  # per space name, from its fitting vectors
        self.space_means: dict[str, np.ndarray] = {}  # the same vectors' mean (unit-normalised), where recorded
        self.query_weights: dict[str, float] = {}  # per space, its mean's weight in queries translated into it
        self.latent_scores: dict[str, tuple[float, float]] = {}  # per space, (scale, shift) of latent-mode scores of
        # the other space's queries among its vectors (calibrate_queries)
        self._model = None
        if kind == "vec2vec":
            from v2v_store.train.model import Vec2Vec, Vec2VecConfig

            self._model = Vec2Vec(Vec2VecConfig(**self.model_config), {s.name: s.dim for s in spaces})
            for s in spaces:  # format version 1: a warm-started network's linear base decoded with proj.T
                if f"base_proj_{s.name}" in self.tensors and f"base_decode_{s.name}" not in self.tensors:
                    self.tensors[f"base_decode_{s.name}"] = self.tensors[f"base_proj_{s.name}"].T.contiguous()
            self._model.load_state_dict(self.tensors, strict=True)
            self._model.to(self.device).eval()

    # -- names ---------------------------------------------------------------------------------
    @property
    def source(self) -> Space:
        return self.spaces[0]

    @property
    def target(self) -> Space:
        return self.spaces[1]

    @property
    def fit_warnings(self) -> list[str]:
        """What ``v2v fit`` warned of when it made this translator (``info["warnings"]``, since session 80; none
        recorded before): a confirmed map can still be far off where these say so."""
        return list(self.info.get("warnings", []))

    def summary(self) -> dict[str, Any]:
        """What ``v2v inspect TRANSLATOR_DIR`` shows: its kind and spaces (with each one's model where recorded), how
        it was fitted and whether a label-free check confirmed it, the fit's reason, warnings and accuracy warnings
        (``None``: not recorded, a translator saved before sessions 80 and 81), and what the fit's checks measured."""
        info, models = self.info, self.info.get("models", {})
        return {"kind": self.kind,
                "spaces": [{"name": s.name, "dim": s.dim, "model": models.get(s.name)} for s in self.spaces],
                "method": info.get("method"), "requested_method": info.get("requested_method"),
                "trusted": info.get("trusted"), "reason": info.get("reason"),
                "warnings": info.get("warnings"), "accuracy_warnings": info.get("accuracy_warnings"),
                "checks": {k: info[k] for k in FIT_CHECKS if k in info}}

    def log_fit_warnings(self) -> None:
        """Log :attr:`fit_warnings`, if any, as a warning: a migration or query with this translator says so, and
        how many are accuracy warnings (``info["accuracy_warnings"]``, since session 81: a worse map where measured)."""
        if self.fit_warnings:
            accuracy = len(self.info.get("accuracy_warnings", []))
            logger.warning("this translator's fit warned%s: %s", f" ({accuracy} of a worse map where measured: "
                           "accuracy_warnings)" if accuracy else "", " | ".join(self.fit_warnings))

    def space(self, name: str | None, default: int = 0) -> Space:
        """The space called ``name``, or else the one whose recorded model it names (``e5`` for a space its fit
        called ``target`` but recognised as e5's: :meth:`space_of_model`); ``None``: the ``default``-th."""
        if name is None:
            return self.spaces[default]
        found = self.space_of_model(name)
        if found is not None:
            return found
        models = self._recorded_models()
        known = ", ".join(s.name + (f" ({models[s.name]})" if s.name in models else "") for s in self.spaces)
        raise V2VError(f"unknown space {name!r}: this translator knows {known}")

    def space_of_model(self, model: str) -> Space | None:
        """The space called ``model``, else the one space whose recorded model (:meth:`model_of`) ``model`` is; None
        when there is none, or when both spaces are of that model."""
        for s in self.spaces:
            if s.name == model:
                return s
        models = self._recorded_models()
        of_model = [s for s in self.spaces if models.get(s.name) == model]
        return of_model[0] if len(of_model) == 1 else None

    def _recorded_models(self) -> dict[str, str]:
        """Each space's model as its fit recorded it (since session 53; before, only anchor fits, as a list)."""
        recorded = self.info.get("models")
        if recorded is None:
            recorded = dict(zip((s.name for s in self.spaces), self.info.get("anchor_models", ())))
        return recorded

    def model_of(self, name: str) -> str | None:
        """The model that embeds texts in space ``name``, where known: the model ``v2v fit`` used for that side (given
        with ``--source-model``/``--target-model``, named, or the offline model its collection looked like by its
        covariance fingerprint), else the space's name when it names an offline model (minilm, e5, mpnet), else None."""
        from v2v_store.models import MODELS

        name = self.space(name).name  # an unknown name fails here, with the names it knows
        return self._recorded_models().get(name) or (name if name in MODELS else None)

    def space_for_dim(self, dim: int, vectors: np.ndarray | None = None, how_to_name: str = "'{}'") -> Space:
        """The space whose dimension is ``dim`` (for stores that do not say which model made them). Where both spaces
        have that dimension (MiniLM and e5 are both 384-d), the one ``vectors`` (a sample of the collection) look like
        by the covariance recorded at fit time (:func:`v2v_store.space_check.similarities`: the same model scores
        0.38-0.98, another at most 0.011); otherwise the error says to name it (``how_to_name``, ``{}`` for a name)."""
        matches = [s for s in self.spaces if s.dim == dim]
        if len(matches) == 1:
            return matches[0]
        if matches:
            from v2v_store.space_check import THRESHOLD, similarities

            sims = similarities(vectors, {m.name: self.space_covariances[m.name] for m in matches
                                          if m.name in self.space_covariances}) or {}
            alike = [name for name, sim in sims.items() if sim >= THRESHOLD]
            if len(alike) == 1:  # not when it looks like both (a model and its fine-tune): then the user must say
                logger.info("the %d-d vectors look like this translator's %r space (covariance similarity %s)", dim,
                            alike[0], ", ".join(f"{k} {v:.2f}" for k, v in sims.items()))
                return self.space(alike[0])
        names = " or ".join(how_to_name.format(s.name) for s in matches)
        why = ("; their covariance does not tell which (a translator saved without space stats, too few vectors, "
               "neither space's, or both alike)" if vectors is not None else "")
        raise DimensionMismatchError(
            f"cannot tell the space of d={dim} vectors: translator spaces are "
            + ", ".join(f"{s.name} (d={s.dim})" for s in self.spaces)
            + (f"{why}; name it: {names}" if matches else "")
        )

    # -- maths ---------------------------------------------------------------------------------
    def _check(self, vectors: np.ndarray, space: Space) -> np.ndarray:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != space.dim:
            raise DimensionMismatchError(
                f"dimension mismatch: got vectors of shape {vectors.shape}, translator space "
                f"{space.name!r} expects d={space.dim}"
            )
        return vectors

    def linear_space(self, space: Space) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mean, encode (d, k), decode (k, d)) of a linear translator's space; an orthogonal map decodes with
        the transposed projection."""
        i = 0 if space.name == self.spaces[0].name else 1
        proj = self.tensors[f"proj.{i}"]
        return self.tensors[f"mean.{i}"], proj, self.tensors.get(f"decode.{i}", proj.T)

    def query_decode(self, space: Space) -> torch.Tensor:
        """(k, d): how a linear translator decodes *queries* into ``space`` (``query_decode.*``, since session 40):
        the records' decode times the space's covariance^(-1/4), :data:`QUERY_WHITEN`, so a query stresses the
        space's principal directions less than a record does. For a half-whitened map (decode ``W^T C^(1/4)``) that is
        its orthogonal part ``W^T``, which the aligner stores; :meth:`calibrate_queries` adds it to any other linear
        translator. Without one (translators saved before session 40, until calibrated again) queries decode as
        records. On the kit it ranked true vectors first more often on 33 of 34 maps and directions (top-1 of
        unsupervised maps +0.0004 .. +0.015, of maps fitted on true pairs -0.0002 .. +0.005;
        ``benchmarks/probes/query_spectrum.txt``)."""
        i = 0 if space.name == self.spaces[0].name else 1
        return self.tensors.get(f"query_decode.{i}", self.linear_space(space)[2])

    @torch.no_grad()
    def _encode(self, x: torch.Tensor, space: Space) -> torch.Tensor:
        if self._model is not None:
            return self._model.encode(x, space.name)
        mean, proj, _ = self.linear_space(space)
        return linear_encode(x, mean, proj)  # (B, d) -> (B, k)

    @torch.no_grad()
    def _decode(self, z: torch.Tensor, space: Space, role: str = RECORDS) -> torch.Tensor:
        if self._model is not None:
            return self._model.decode(z, space.name)
        mean, _, decode = self.linear_space(space)
        if role == QUERIES:
            return linear_decode_query(z, mean, self.query_decode(space), self.query_weights.get(space.name, 0.0))
        return linear_decode(z, mean, decode)  # (B, k) -> (B, d)

    def _batched(self, fn, vectors: np.ndarray, batch_size: int) -> np.ndarray:
        out = []
        for s in range(0, len(vectors), batch_size):
            out.append(fn(torch.as_tensor(vectors[s:s + batch_size], device=self.device)).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def translate(self, vectors: np.ndarray, source: str | None = None, target: str | None = None,
                  batch_size: int = 8192, role: str = RECORDS) -> np.ndarray:
        """Map (n, d_source) vectors into the target space; returns unit (n, d_target) float32.

        ``role``: what the translations are for (linear translators; a vec2vec translator decodes both alike).
        ``"records"`` (the default: what a migration writes) are stored beside the target's own vectors and searched
        by its queries, so they are decoded to sit as far from the target's mean as its own vectors do
        (:func:`~v2v_store.train.linear.linear_decode`). ``"queries"`` search the target's own vectors (a cross-query,
        the paper's metrics): the translated direction, decoded by :meth:`query_decode` (stressing the target's
        principal directions less), plus the share of the target's mean that :meth:`calibrate_queries` chose (none
        for a translator never calibrated), as the mean adds to every candidate's score whatever the query asks
        (:func:`~v2v_store.train.linear.linear_decode_query`). Each is the
        better one for its use on the kit's oracle maps: true e5 vectors found translated records first for 0.97 of
        texts decoded as records, 0.93 as calibrated queries; translated queries found their true e5 vectors first
        for 0.98 decoded as queries, 0.97 as records (``benchmarks/results/decode_calibration.md``)."""
        if role not in (RECORDS, QUERIES):
            raise V2VError(f"unknown translation role {role!r}: use {RECORDS!r} (vectors to store) or {QUERIES!r} "
                           "(vectors to search with)")
        src = self.space(source, 0)
        trg = self.space(target, 1 if src is self.spaces[0] else 0)
        vectors = self._check(vectors, src)
        if src.name == trg.name:
            return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        out = self._batched(lambda x: self._decode(self._encode(x, src), trg, role), vectors, batch_size)
        return out.reshape(len(vectors), trg.dim)

    def to_latent(self, vectors: np.ndarray, space: str | None = None, batch_size: int = 8192) -> np.ndarray:
        """Map (n, d_space) vectors into the shared latent; returns unit vectors."""
        sp = self.space(space, 0)
        vectors = self._check(vectors, sp)

        return self._batched(lambda x: _unit(self._encode(x, sp)), vectors, batch_size)

    def to_space(self, vectors: np.ndarray, space: str | None = None, into: str | None = None,
                 batch_size: int = 8192, role: str = RECORDS) -> np.ndarray:
        """Map (n, d_space) vectors to where vectors of space ``into`` (default: ``space`` itself) are compared
        with each other and with translations; returns unit vectors. What ``v2v query --mode latent`` ranks by.

        Linear translators: the *centred* coordinates of ``into`` (``unit(unit(x) - mean)``): a vector of
        ``into`` itself goes there directly, a vector of the other space through the latent,
        ``unit(linear_encode(x) @ decode_into)`` (the translation without the mean added). Dot products are then
        the centred cosines within a space and the translation's cosines across spaces; for an orthogonal map
        with as many latent as space dimensions they equal the dot products of :meth:`to_latent`, for a
        half-whitened map comparing in its (whitened) latent instead lost 0.02 top-1 on the kit. With
        ``role="queries"``, once :meth:`calibrate_queries` has given ``into`` a latent score map
        (:meth:`latent_score`), the other space's vectors are decoded with the query decode (:meth:`query_decode`)
        instead: their scores then need that map to be merged with same-space scores. Vec2vec translators: the
        shared latent (``into`` and ``role`` do not matter)."""
        sp = self.space(space, 0)
        if self._model is not None:
            return self.to_latent(vectors, sp.name, batch_size)
        vectors = self._check(vectors, sp)
        dest = self.space(into, 0 if sp is self.spaces[0] else 1)
        mean, _, decode = self.linear_space(dest)
        if dest.name == sp.name:
            return self._batched(lambda x: center_unit(x, mean), vectors, batch_size)
        if role == QUERIES and dest.name in self.latent_scores:
            decode = self.query_decode(dest)
        return self._across(vectors, sp, decode, batch_size)

    def _across(self, vectors: np.ndarray, space: Space, decode: torch.Tensor, batch_size: int = 8192) -> np.ndarray:
        """Vectors of ``space`` in the other space's centred coordinates, decoded from the latent with ``decode``."""
        return self._batched(lambda x: _unit(self._encode(x, space) @ decode), vectors, batch_size)

    def latent_score(self, space: str, into: str) -> tuple[float, float]:
        """(scale, shift) that puts the latent-mode scores of queries of ``space`` among vectors of ``into``
        (``to_space(q, space, into, role="queries") @ to_space(y, into).T``) on the scale of ``space``'s scores
        among its own vectors, so hits of collections of both spaces can be merged by score; (1, 0) within a space
        and for translators without one (vec2vec, or fitted before session 41)."""
        if self.space(space).name == self.space(into).name:
            return 1.0, 0.0
        return self.latent_scores.get(self.space(into).name, (1.0, 0.0))

    @torch.no_grad()
    def calibrate_queries(self, source_vectors: np.ndarray, target_vectors: np.ndarray, sample: int = 4096,
                          k: int = 10, seed: int = 0, whiten: float = QUERY_WHITEN) -> dict[str, dict]:
        """Choose, for each space, how much of its mean queries translated into it keep
        (:func:`~v2v_store.train.linear.linear_decode_query`), from unpaired vectors of the two spaces (e.g. the
        fit's): of :data:`QUERY_WEIGHTS`, the one whose translated queries (up to ``sample`` of the other space's
        vectors) leave the fewest of ``sample`` of this space's vectors out of every query's ``k`` nearest
        (:func:`~v2v_store.metrics.anti_hub_shares`); ties go to the smaller weight. Linear translators only (a vec2vec
        translator decodes queries as records). Kept with the translator; returns each space's weight and share.
        On the kit its choice's paired top-1 was within 0.0017 of the best weight's (of -0.5 .. 1.5; six directions,
        maps from 300, 1,000 and 13,805 pairs), and the weight moved with the space: 0.5-1 into e5, 0 or below into
        MiniLM and mpnet; on ten unsupervised MiniLM <-> e5 maps it raised MiniLM -> e5 top-1 by 0.009-0.016
        (``benchmarks/results/s39_minilm_e5_query_weights.md``).

        First, a space without a query decode gets one (:meth:`query_decode`): its records' decode times the
        covariance^(-whiten/2) (-1/4 by default) of all the given vectors of that space (centred, as the map sees
        them); for a half-whitened map the aligner already stored its orthogonal part, which is the same matrix.
        ``whiten=0`` keeps the records' direction (session 39's queries).

        Last, each space gets the map that puts the latent-mode scores of the other space's queries among its
        vectors on the scale of same-space scores (:meth:`latent_score`, since session 41), and with it latent-mode
        queries decoded with the query decode (:meth:`to_space`); returned as ``latent_score`` (scale, shift)."""
        from v2v_store.metrics import anti_hub_shares

        if self._model is not None:
            return {}
        for i, (space, vectors) in enumerate(zip(self.spaces, (source_vectors, target_vectors))):
            if f"query_decode.{i}" not in self.tensors:
                mean, _, decode = self.linear_space(space)
                centred = center_unit(torch.as_tensor(self._check(np.asarray(vectors), space), device=self.device), mean)
                self.tensors[f"query_decode.{i}"] = decode @ power_whitener(centred, whiten)[0]
        rng = np.random.default_rng(seed)
        samples = [self._check(np.asarray(v)[np.sort(rng.choice(len(v), min(sample, len(v)), replace=False))], sp)
                   for v, sp in zip((source_vectors, target_vectors), self.spaces)]
        chosen = {}
        for i, space in enumerate(self.spaces):
            mean = self.linear_space(space)[0]
            x = torch.as_tensor(samples[1 - i], device=self.device)
            directions = linear_decode_query(self._encode(x, self.spaces[1 - i]), mean,
                                             self.query_decode(space)).cpu()  # weight 0
            targets = _unit(torch.as_tensor(samples[i]))
            towards_mean = targets @ mean.cpu().float()
            shares = anti_hub_shares(directions, targets, {w: w * towards_mean for w in QUERY_WEIGHTS}, k)
            best = min(shares, key=lambda w: (round(shares[w], 9), abs(w)))
            self.query_weights[space.name] = best
            chosen[space.name] = {"weight": best, "anti_hub_share": round(shares[best], 4),
                                  "anti_hub_share_at_0": round(shares[0.0], 4)}
            logger.info("queries into %r keep %.2f of its mean: %.1f%% of its vectors in no query's %d nearest "
                        "(%.1f%% keeping none)", space.name, best, 100 * shares[best], k, 100 * shares[0.0])
        for i, space in enumerate(self.spaces):
            self.latent_scores[space.name] = self._latent_score_map(samples[1 - i], self.spaces[1 - i], samples[i],
                                                                    space, k)
            chosen[space.name]["latent_score"] = [round(v, 4) for v in self.latent_scores[space.name]]
        return chosen

    def _latent_score_map(self, queries: np.ndarray, space: Space, vectors: np.ndarray, into: Space,
                          k: int) -> tuple[float, float]:
        """The affine map matching the mean and spread of the top-``k`` latent scores of half of ``queries`` among
        ``vectors`` of the other space (through the query decode) to those among the other half of ``queries``
        (same space, as many candidates), label-free: the two collections hold different texts, so in a perfect
        translation both lists would be drawn alike. On the kit's mixed collections (half of the documents in
        each model) it raised the share of article-mates in the merged top-10 on most maps
        (``benchmarks/probes/mixed_latent.txt``)."""
        half = min(len(queries) // 2, len(vectors))
        q, own = queries[:half], queries[half:2 * half]
        cross_q = torch.as_tensor(self._across(q, space, self.query_decode(into)))  # as to_space(role="queries")
        same_q = torch.as_tensor(self.to_space(q, space.name))
        cross = (cross_q @ torch.as_tensor(self.to_space(vectors[:half], into.name)).T).topk(k, dim=1).values
        same = (same_q @ torch.as_tensor(self.to_space(own, space.name)).T).topk(k, dim=1).values
        scale = float(same.std() / cross.std().clamp_min(1e-6))
        shift = float(same.mean() - scale * cross.mean())
        logger.info("latent scores of %r queries among %r vectors: %.3f x + %.3f (top-%d means %.3f -> %.3f)",
                    space.name, into.name, scale, shift, k, float(cross.mean()), float(same.mean()))
        return scale, shift

    # -- which space a collection is in ----------------------------------------------------------
    def record_space_stats(self, source_vectors: np.ndarray, target_vectors: np.ndarray) -> None:
        """Keep each space's covariance and mean (of the vectors it was fitted on), saved with the translator."""
        from v2v_store.space_check import covariance, unit_mean

        for space, vectors in zip(self.spaces, (source_vectors, target_vectors)):
            self.space_covariances[space.name] = covariance(vectors).astype(np.float32)
            self.space_means[space.name] = unit_mean(vectors).astype(np.float32)

    def check_space(self, vectors: np.ndarray | None, space: str, what: str,
                    how_to_name: str = "--source-space {}", fix: str | None = None) -> float | None:
        """Refuse (:class:`~v2v_store.errors.SpaceMismatchError`) ``vectors`` (a collection's sample) that do not look
        like this translator's ``space``; the similarity, or None where it cannot judge (e.g. a translator saved
        without space stats). ``how_to_name``: how the caller names a space, ``{}`` for the name, for the message;
        ``fix``: the message's remedy where naming another space is not one."""
        from v2v_store.space_check import check_collection_space

        return check_collection_space(vectors, self.space_covariances, space, what, how_to_name, fix)

    def digest(self) -> str:
        """A hex digest of what the translator computes with (its config and tensors): two translators with the same
        digest translate alike (what an on-disk latent index is keyed by, :mod:`v2v_store.latent_cache`)."""
        h = hashlib.sha256(json.dumps(self.config_dict(), sort_keys=True, default=str).encode())
        tensors = self._model.state_dict() if self._model is not None else self.tensors
        for name in sorted(tensors):
            h.update(name.encode())
            h.update(tensors[name].detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        return h.hexdigest()

    # -- persistence ---------------------------------------------------------------------------
    def config_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "source": {"name": self.source.name, "dim": self.source.dim},
            "target": {"name": self.target.name, "dim": self.target.dim},
            "normalization": "unit-center-unit" if self.kind == "linear" else "unit",
            "model_config": self.model_config,
            "info": self.info,
            **({"query_mean_weight": self.query_weights} if self.query_weights else {}),
            **({"latent_query_scores": {k: list(v) for k, v in self.latent_scores.items()}}
               if self.latent_scores else {}),
        }

    def save(self, directory: str | Path) -> Path:
        """Write the translator as a directory, all at once: the files go to a sibling directory that then takes the
        place of ``directory``, so an interrupted save leaves the previous translator (or none), never a mix of two.
        A directory holding anything but a translator's files is refused (:func:`check_translator_directory`)."""
        directory = Path(os.path.abspath(directory))  # a name to stage beside, also for "." or "out/"
        check_translator_directory(directory)
        staging = directory.with_name(f".{directory.name}.saving-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            self._write_files(staging)
        except BaseException:  # a full disk: no part-written staging directory left taking its space
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if directory.exists():
            replaced = directory.with_name(f".{directory.name}.replaced-{os.getpid()}")
            shutil.rmtree(replaced, ignore_errors=True)
            os.replace(directory, replaced)
            os.replace(staging, directory)
            shutil.rmtree(replaced)
        else:
            os.replace(staging, directory)
        logger.info("saved %s translator %s -> %s to %s", self.kind, self.source.name, self.target.name, directory)
        return directory

    def _write_files(self, directory: Path) -> None:
        """The translator's files (tensors, space statistics, config) in ``directory``."""
        tensors = self._model.state_dict() if self._model is not None else self.tensors
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(directory / "model.safetensors"))
        if self.space_covariances:
            stats = {f"{kind}.{i}": torch.as_tensor(recorded[s.name])
                     for kind, recorded in (("covariance", self.space_covariances), ("mean", self.space_means))
                     for i, s in enumerate(self.spaces) if s.name in recorded}
            save_file(stats, str(directory / "space_stats.safetensors"))
        (directory / "config.json").write_text(json.dumps(self.config_dict(), indent=2, sort_keys=True, default=str))

    @classmethod
    def load(cls, directory: str | Path, device: str | None = None) -> "Translator":
        directory = Path(directory)
        cfg_path, weights = directory / "config.json", directory / "model.safetensors"
        if not cfg_path.exists() or not weights.exists():
            raise StoreNotFoundError(
                f"{directory} is not a translator directory (needs config.json and model.safetensors); "
                "create one with `v2v fit`"
            )
        cfg = json.loads(cfg_path.read_text())
        if cfg.get("format_version") not in READABLE_VERSIONS:
            raise V2VError(f"{cfg_path}: format_version {cfg.get('format_version')} is not supported "
                           f"(this v2v-store reads {', '.join(map(str, READABLE_VERSIONS))}); upgrade v2v-store "
                           "or fit the translator again")
        spaces = (Space(**cfg["source"]), Space(**cfg["target"]))
        translator = cls(cfg["kind"], spaces, load_file(str(weights)), cfg.get("info"), cfg.get("model_config"), device)
        translator.query_weights = dict(cfg.get("query_mean_weight", {}))  # calibrated since session 39
        translator.latent_scores = {k: tuple(v) for k, v in cfg.get("latent_query_scores", {}).items()}  # since 41
        if (directory / "space_stats.safetensors").exists():
            stats = load_file(str(directory / "space_stats.safetensors"))
            translator.space_covariances = {s.name: stats[f"covariance.{i}"].numpy() for i, s in enumerate(spaces)
                                            if f"covariance.{i}" in stats}
            translator.space_means = {s.name: stats[f"mean.{i}"].numpy() for i, s in enumerate(spaces)
                                      if f"mean.{i}" in stats}  # not in translators saved before session 38
        return translator

    @classmethod
    def from_linear_map(cls, mapping, source: Space, target: Space, info: dict | None = None) -> "Translator":
        tensors = {
            "mean.0": torch.as_tensor(mapping.source_mean), "proj.0": torch.as_tensor(mapping.source_proj),
            "mean.1": torch.as_tensor(mapping.target_mean), "proj.1": torch.as_tensor(mapping.target_proj),
        }
        for name, decodes in (("decode", (mapping.source_decode, mapping.target_decode)),
                              ("query_decode", (mapping.source_query_decode, mapping.target_query_decode))):
            for i, decode in enumerate(decodes):
                if decode is not None:
                    tensors[f"{name}.{i}"] = torch.as_tensor(decode)
        return cls("linear", (source, target), tensors, info, device="cpu")

    def __repr__(self) -> str:
        return f"Translator({self.kind}, {self.source.name}[{self.source.dim}] <-> {self.target.name}[{self.target.dim}])"
