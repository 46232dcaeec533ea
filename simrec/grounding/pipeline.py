"""``ground``: from an interaction log to a preset directory (catalog, population, env YAML).

Steps, each on the parts of the per-user split it is allowed to see:

1. clean and split the log (:mod:`~.split`: temporal, or random for comparison with
   the literature); every dropped row is reported;
2. choose the taste model's settings on validation, fitted on train (:mod:`~.latent`);
3. choose the click calibration on validation (:mod:`~.calibration`);
4. refit on train + validation (all events before the held-out part) and score items;
5. turn those click logits into latent tastes the brain reproduces: the brain's own
   terms for each persona (popularity, novelty, price, through
   :meth:`~simrec.brains.utility.UtilityBrain.click_probabilities`) are subtracted, and
   the remaining affinities are factorised (truncated SVD) into item ``embedding``\\ s and
   per-user ``taste_embedding``\\ s;
6. fit traits and readable profiles from each user's pre-test events;
7. write the preset directory (:mod:`~.preset`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simrec.brains.utility import UtilityBrain
from simrec.catalog import Catalog
from simrec.grounding.calibration import Calibration, calibrate, calibrated_logits
from simrec.grounding.latent import TasteModel, choose, truncated_svd
from simrec.grounding.profile import readable_profile
from simrec.grounding.split import TEST, TRAIN, VALIDATION, SplitLog, split_log
from simrec.grounding.table import InteractionLog
from simrec.grounding.traits import fit_traits
from simrec.persona import Persona
from simrec.session import BoundPersona, Session, SessionDynamics


@dataclass
class Grounded:
    """What :func:`ground` built (and :func:`~.preset.write_preset` writes)."""

    catalog: Catalog
    personas: list[Persona]
    split: SplitLog
    log: InteractionLog
    summary: dict[str, Any] = field(default_factory=dict)


def ground(
    log: InteractionLog,
    dim: int = 64,
    min_events: int = 5,
    seed: int = 0,
    split: str = "temporal",
    split_seed: int | None = None,
) -> Grounded:
    """Ground ``log``: a catalog with embeddings and one persona per kept user.

    Args:
        log: what a reader produced.
        dim: size of the latent space (at most the number of users or items).
        min_events: users with fewer usable events are dropped (and reported).
        seed: seeds the validation negatives of the calibration.
        split: ``temporal`` (each user's last 20% held out) or ``random``
            (:func:`~.split.split_log`).
        split_seed: seeds the random split (default 0).
    """
    started = time.process_time()
    split = split_log(log, min_events, method=split, seed=split_seed)
    n_users, n_items = split.n_users, len(log.items)
    train = split.part == TRAIN
    validation = np.zeros((n_users, n_items), dtype=bool)
    validation[split.user[split.part == VALIDATION], split.item[split.part == VALIDATION]] = True
    settings, tried = choose(n_users, n_items, split.user[train], split.item[train], validation)
    model = TasteModel(n_users, n_items, split.user[train], split.item[train], settings)
    val = split.part == VALIDATION
    calibration = calibrate(model.scores(), model.seen, split.user[val], split.item[val], seed)
    before = split.part != TEST
    final = TasteModel(n_users, n_items, split.user[before], split.item[before], settings)
    # the bar moves with each user's train event count, as validated (train + validation
    # counts are the same counts times about 1.25: the validated bar stays put)
    logits = calibrated_logits(calibration, final.scores(), model.seen.sum(axis=1))
    popularity = np.bincount(split.item[before], minlength=n_items).astype(np.float64)
    traits = fit_traits(
        n_users, split.user[before], split.item[before], split.value[before], split.rated,
        popularity, np.nan_to_num(log.items.prices, nan=0.0), split.timestamp[before],
    )  # fmt: skip
    base = _catalog(log, popularity, None)
    personas = _personas(log, split, traits, None)
    affinity = _latent_affinity(base, personas, logits)
    embeddings, tastes, error = _factorise(affinity, dim)
    catalog = _catalog(log, popularity, embeddings)
    personas = _personas(log, split, traits, tastes)
    summary = {
        "users": n_users,
        "items": n_items,
        "split": split.settings,
        "events": {
            name: int((split.part == k).sum())
            for k, name in enumerate(("train", "validation", "test"))
        },
        "taste_model": {
            "method": "EASE + RP3beta over a recency-weighted history, plus popularity",
            "chosen": settings.__dict__,
            "validation_auc": tried,
        },
        "calibration": calibration.__dict__,
        "latent_dim": int(embeddings.shape[1]),
        "factorisation_relative_error": error,
        "cpu_seconds": round(time.process_time() - started, 2),
    }
    return Grounded(catalog, personas, split, log, summary)


def _catalog(log: InteractionLog, popularity: np.ndarray, embeddings: np.ndarray | None) -> Catalog:
    items = log.items
    eras = [f"{int(y) // 10 * 10}s" if np.isfinite(y) else "unknown" for y in items.years]
    descriptions = [
        str(text) if text else ", ".join(g) + (f" ({int(y)})" if np.isfinite(y) else "")
        for text, g, y in zip(items.texts, items.genres, items.years, strict=True)
    ]
    return Catalog(
        item_ids=[str(i) for i in items.ids],
        titles=[str(t) for t in items.titles],
        categories=[g[0] if g else "unknown" for g in items.genres],
        prices=np.nan_to_num(items.prices, nan=0.0),
        tags=[g for g in items.genres],
        popularity=popularity + 1.0,  # add-one: an item nobody chose yet is rare, not impossible
        descriptions=descriptions,
        semantic_ids=[
            f"{g[0] if g else 'unknown'}/{e}/{i}"
            for g, e, i in zip(items.genres, eras, items.ids, strict=True)
        ],
        attributes={"era": eras},
        domain=log.domain,
        source=log.source,
        embeddings=embeddings,
    )


def persona_id(user: str) -> str:
    """A persona id for a log's user id (spaces become ``_``)."""
    return "user-" + "_".join(str(user).split())


def _personas(
    log: InteractionLog, split: SplitLog, traits, tastes: np.ndarray | None
) -> list[Persona]:
    before = split.part != TEST
    user, item, value = split.user[before], split.item[before], split.value[before]
    starts = np.searchsorted(user, np.arange(split.n_users + 1))
    out = []
    for u, ident in enumerate(split.user_ids.tolist()):
        chosen = item[starts[u] : starts[u + 1]]
        fitted = {
            "mainstreamness": traits.mainstreamness[u],
            "activity": traits.activity[u],
            "strictness": None if traits.strictness is None else traits.strictness[u],
        }
        profile = readable_profile(log.items, chosen, value[starts[u] : starts[u + 1]], fitted)
        likes = ", ".join(profile.top_categories) or "many things"
        out.append(
            Persona(
                persona_id=persona_id(ident),
                domain=log.domain,
                name=f"User {ident}",
                bio=f"A real user of {log.name}: chose {len(chosen)} items before this visit, mostly {likes}.",
                tastes={},
                dislikes={},
                age=log.users.ages.get(ident),
                occupation=log.users.occupations.get(ident),
                taste_embedding=None if tastes is None else tuple(tastes[u].tolist()),
                history=tuple(str(log.items.ids[i]) for i in chosen.tolist()),
                profile=profile,
                **traits.persona_traits(u),
                **traits.persona_economy(u),
            )
        )
    return out


def _latent_affinity(catalog: Catalog, personas: list[Persona], logits: np.ndarray) -> np.ndarray:
    """Affinities that make the brain's one-item click logit equal ``logits``.

    The brain's other terms come from its own code: the click logit of each persona with
    no taste at all, at the first turn of a visit.
    """
    brain = UtilityBrain()
    dynamics = SessionDynamics()
    everything = np.arange(len(catalog))
    out = np.empty_like(logits)
    for u, persona in enumerate(personas):
        session = Session(BoundPersona(persona, catalog), 1, 1, dynamics)
        p = brain.click_probabilities(session, everything)
        offset = np.log(p) - np.log1p(-p)
        out[u] = (logits[u] - offset) / brain.params.taste_weight
    return out


def _factorise(affinity: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Item embeddings and user tastes with ``tastes @ embeddings.T ~ affinity`` (truncated SVD)."""
    u, s, vt = truncated_svd(affinity, dim)
    root = np.sqrt(s)
    tastes = u * root
    embeddings = vt.T * root
    error = float(np.linalg.norm(affinity - tastes @ embeddings.T) / np.linalg.norm(affinity))
    return embeddings, tastes, round(error, 5)


__all__ = ["Calibration", "Grounded", "ground", "persona_id"]
