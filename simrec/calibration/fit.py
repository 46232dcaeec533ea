"""The utility brain fitted to recorded behaviour: maximum likelihood on the reactions.

A recording is the event log of visits played by some users (an LLM brain, real people,
another model) in a known env: which slates were shown, what was clicked, bought,
dismissed, and when the user left. Under a utility brain with parameters ``theta``, each
step of each visit has a probability, computed by the brain's own code
(:meth:`~simrec.brains.utility.UtilityBrain.step_logits`,
:meth:`~simrec.brains.utility.UtilityBrain.satisfaction_after`,
:meth:`~simrec.brains.utility.UtilityBrain.leave_logit`), on the visit replayed through a
:class:`~simrec.session.Session` (so boredom, fatigue, ownership and requests are the
model's own):

* the **click**: the clicked slot's share of the slate plus the no-click option (a slate
  with several clicks, which the utility brain never makes but an LLM may, counts each
  click as a choice from the slate: a composite likelihood), or the no-click option's;
* a **purchase** or not, for each clicked slot;
* a **dismissal** or not, for each shown slot not clicked;
* **leaving** or not after the step, at the satisfaction the model would have after it
  (the recorded users' own satisfaction is not the model's and is not used).

Purchases and leaving also depend on the visit's need (how much it came to buy, which
lowers buying and raises leaving once met); a recording does not hold it, so each
visit's purchase and leave terms are summed over the persona's need distribution.

Each probability is floored at :data:`FLOOR`, so an event the model calls impossible (a
purchase it forbids) lowers the likelihood a lot instead of making every parameter value
impossible. :func:`fit_utility` maximises the sum over a chosen subset of
:class:`~simrec.brains.utility.UtilityParams` and :class:`~simrec.session.SessionDynamics`
fields with ``scipy.optimize.minimize`` (L-BFGS-B within :data:`BOUNDS`), and reports
standard errors from the observed information (a finite-difference Hessian).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simrec.brains.utility import StepLogits, UtilityBrain, UtilityParams
from simrec.calibration.params import DYNAMICS_FIELDS, UTILITY_FIELDS, BrainParams
from simrec.catalog import Catalog
from simrec.errors import ConfigError
from simrec.persona import Persona
from simrec.reaction import Reaction
from simrec.session import EMPTY, MAX_NEED, BoundPersona, Session, SessionDynamics

FLOOR = 1e-6
"""The smallest probability an event gets (see the module docstring)."""
_LOG_FLOOR = math.log(FLOOR)
DEFAULT_FIELDS = (
    "outside_utility", "position_weight", "taste_weight", "category_weight",
    "purchase_base", "dismiss_base", "leave_base", "fatigue_leave_weight",
)  # fmt: skip
"""What ``simrec calibrate fit`` fits unless told otherwise: the overall click, purchase,
dismissal and leave rates, and how they move with position, taste, repetition and time."""
NOT_FITTABLE = frozenset({"chat_rate"})
"""Fields that change what users say, not what they do: no likelihood to fit them by."""
BOUNDS: dict[str, tuple[float, float]] = {
    **dict.fromkeys(UTILITY_FIELDS, (-20.0, 20.0)),
    "leave_threshold": (0.0, 1.0),
    "satisfaction_rate": (0.0, 1.0),
    **dict.fromkeys(
        ("item_decay", "category_decay", "fatigue_base", "fatigue_impatience"), (0.0, 1.0)
    ),
    "initial_satisfaction": (0.0, 1.0),
    "click_exposure": (0.0, 20.0),
}
"""Where the optimiser looks for each field (within the brain's own valid ranges)."""


@dataclass(frozen=True)
class RecordedStep:
    """One recorded step: the slate shown and what the user did.

    Attributes:
        slate: item indices (``-1`` = an empty slot).
        reaction: the recorded clicks, purchases, dismissals and leaving.
        counted: whether the step counts in the likelihood. A step an LLM brain's fallback
            played (``invalid_response``: the offline model reacted, not the LLM) is
            replayed, so the visit's state moves on, but not counted.
    """

    slate: list[int]
    reaction: Reaction
    counted: bool = True

    @property
    def clicks(self) -> list[int]:
        """The clicked slots."""
        return [pos for pos, c in enumerate(self.reaction.clicked) if c]


@dataclass(frozen=True)
class RecordedVisit:
    """One recorded visit of one persona."""

    persona_id: str
    session_id: int
    steps: tuple[RecordedStep, ...]


@dataclass
class Recording:
    """Recorded visits with the env they were played in (catalog, personas, settings).

    Attributes:
        catalog: the catalog the logs' ``item_index`` points into.
        personas: persona id -> persona (with the events the visits had).
        visits: the visits, in session order.
        slate_size, history_window: the env's settings.
        dynamics: the session dynamics the visits were played under.
    """

    catalog: Catalog
    personas: Mapping[str, Persona]
    visits: list[RecordedVisit]
    slate_size: int = 5
    history_window: int = 3
    dynamics: SessionDynamics = field(default_factory=SessionDynamics)
    _bound: dict[str, BoundPersona] = field(default_factory=dict, repr=False)

    @property
    def steps(self) -> int:
        """Recorded steps the likelihood counts (see :attr:`RecordedStep.counted`)."""
        return sum(step.counted for v in self.visits for step in v.steps)

    def bound(self, persona_id: str) -> BoundPersona:
        """The persona bound to the catalog (built once)."""
        if persona_id not in self._bound:
            if persona_id not in self.personas:
                raise ConfigError(
                    f"the recording has persona {persona_id!r}, which the scenario does not"
                )
            self._bound[persona_id] = BoundPersona(self.personas[persona_id], self.catalog)
        return self._bound[persona_id]

    @classmethod
    def from_logs(
        cls,
        logs: Sequence[tuple[pd.DataFrame, pd.DataFrame]],
        catalog: Catalog,
        personas: Sequence[Persona],
        env_kwargs: Mapping[str, Any] | None = None,
    ) -> Recording:
        """The visits of event logs (``(interactions, turns)`` pairs), with the env's
        settings from ``env_kwargs`` (``slate_size``, ``history_window``, ``dynamics``)."""
        kwargs = dict(env_kwargs or {})
        visits = [v for interactions, turns in logs for v in visits_from_log(interactions, turns)]
        return cls(
            catalog,
            {p.persona_id: p for p in personas},
            visits,
            int(kwargs.get("slate_size", 5)),
            int(kwargs.get("history_window", 3)),
            kwargs.get("dynamics") or SessionDynamics(),
        )


def visits_from_log(interactions: pd.DataFrame, turns: pd.DataFrame) -> list[RecordedVisit]:
    """The visits of one event log (sessions in id order, turns in order)."""
    rows = interactions.sort_values(["session_id", "turn", "position"], kind="stable")
    t = turns.sort_values(["session_id", "turn"], kind="stable")
    keys = list(zip(t["session_id"], t["turn"], strict=True))
    left = dict(zip(keys, t["left"], strict=True))
    invalid = dict(zip(keys, t["invalid_response"], strict=True))
    persona_of = dict(zip(t["session_id"], t["persona_id"], strict=False))
    visits = []
    for session_id, visit in rows.groupby("session_id", sort=True):
        steps = []
        for turn, slate_rows in visit.groupby("turn", sort=True):
            flags = [
                slate_rows[c].to_numpy(bool).tolist() for c in ("clicked", "purchased", "dismissed")
            ]
            reaction = Reaction(*flags, bool(left[(session_id, turn)]), 0.0, "", "recorded")
            slate = slate_rows["item_index"].to_numpy(np.int64).tolist()
            steps.append(RecordedStep(slate, reaction, not invalid[(session_id, turn)]))
        visits.append(RecordedVisit(str(persona_of[session_id]), int(session_id), tuple(steps)))
    return visits


@dataclass(frozen=True)
class LogLikelihood:
    """The log-likelihood of a recording under one parameter set, by kind of decision."""

    click: float
    purchase: float
    dismiss: float
    leave: float
    steps: int

    @property
    def total(self) -> float:
        """All four together."""
        return self.click + self.purchase + self.dismiss + self.leave

    @property
    def per_step(self) -> float:
        """``total / steps``."""
        return self.total / max(self.steps, 1)

    def to_dict(self) -> dict[str, float]:
        """JSON-ready."""
        return {
            "total": round(self.total, 4), "per_step": round(self.per_step, 6),
            "click": round(self.click, 4), "purchase": round(self.purchase, 4),
            "dismiss": round(self.dismiss, 4), "leave": round(self.leave, 4), "steps": self.steps,
        }  # fmt: skip


def _log_sigmoid(z: float) -> float:
    """``log(sigmoid(z))``, floored at ``log(FLOOR)`` (``z`` may be infinite)."""
    value = -math.log1p(math.exp(-z)) if z >= 0 else z - math.log1p(math.exp(z))
    return max(value, _LOG_FLOOR)


def _click_dismiss_terms(step: RecordedStep, logits: StepLogits) -> tuple[float, float]:
    """One step's log-probabilities of its click(s) and of its dismissals."""
    r = step.reaction
    clicks = step.clicks
    log_p = logits.click_log_probabilities().tolist()
    if clicks:
        click = sum(max(log_p[1 + j], _LOG_FLOOR) for j in clicks)
    else:
        click = max(log_p[0], _LOG_FLOOR)
    drop = logits.dismiss.tolist()
    dismiss = sum(
        _log_sigmoid(drop[pos] if r.dismissed[pos] else -drop[pos])
        for pos, item in enumerate(step.slate)
        if item != EMPTY and not r.clicked[pos]
    )
    return click, dismiss


def _purchase_term(step: RecordedStep, buy: list[float]) -> float:
    """Log-probability of the step's purchases (or none) on its clicked slots, at ``buy``."""
    r = step.reaction
    return sum(_log_sigmoid(buy[j] if r.purchased[j] else -buy[j]) for j in step.clicks)


def _need_mixture(
    need_cdf: list[float], terms: np.ndarray, before: np.ndarray, after: np.ndarray
) -> tuple[float, float, float]:
    """A visit's purchase and leave log-likelihood with its need summed out.

    A recording does not say how much a visit came for. ``terms`` holds, per counted
    step, its purchase term with the need unmet and met and its leave term with the need
    unmet and met after the step (columns in that order); ``before`` and ``after`` the
    visit's purchases before and after each step. Returns ``(purchase, leave, total)``:
    ``total`` is ``log sum_n P(need = n) P(purchases, leaving | n)``, ``purchase`` its
    part expected over the posterior of the need, ``leave`` the rest.
    """
    prior = np.diff(np.r_[0.0, need_cdf, 1.0])
    needs = np.flatnonzero(prior > 0)
    met = before[None, :] >= needs[:, None]
    done = after[None, :] >= np.maximum(needs, 1)[:, None]
    buy = np.where(met, terms[:, 1], terms[:, 0]).sum(axis=1)
    leave = np.where(done, terms[:, 3], terms[:, 2]).sum(axis=1)
    joint = np.log(prior[needs]) + buy + leave
    top = joint.max()
    weights = np.exp(joint - top)
    total = float(top + math.log(weights.sum()))
    purchase = float(weights @ buy / weights.sum())
    return purchase, total - purchase, total


def log_likelihood(
    recording: Recording, params: UtilityParams, dynamics: SessionDynamics | None = None
) -> LogLikelihood:
    """The log-likelihood of ``recording`` under a utility brain with ``params``.

    Each visit is replayed through a fresh :class:`~simrec.session.Session` (under
    ``dynamics``, default the recording's), its satisfaction following the brain's own
    update along the recorded outcomes (see the module docstring). The visit's need (how
    much it came to buy), which a recording does not hold, is summed out over the
    persona's need distribution (:func:`_need_mixture`).
    """
    brain = UtilityBrain(params)
    dynamics = dynamics or recording.dynamics
    click = purchase = dismiss = leave = 0.0
    for visit in recording.visits:
        bound = recording.bound(visit.persona_id)
        session = Session(
            bound,
            recording.slate_size,
            recording.history_window,
            dynamics,
            session_id=visit.session_id,
            need=MAX_NEED,  # never met: step_logits' purchase is the unmet case
        )
        terms, before, after = [], [], []
        for step in visit.steps:
            logits = brain.step_logits(session, step.slate)
            r = step.reaction
            bought = any(r.purchased)
            satisfaction = brain.satisfaction_after(
                session, logits, any(r.clicked), bought, sum(r.dismissed)
            )
            if step.counted:
                step_click, step_dismiss = _click_dismiss_terms(step, logits)
                click, dismiss = click + step_click, dismiss + step_dismiss
                leave_z = [
                    brain.leave_logit_if(session, satisfaction, done) for done in (False, True)
                ]
                terms.append(
                    (
                        _purchase_term(step, logits.purchase.tolist()),
                        _purchase_term(step, logits.purchase_if_met.tolist()),
                        *(_log_sigmoid(z if r.left else -z) for z in leave_z),
                    )
                )
                before.append(session.purchases)
                after.append(session.purchases + sum(r.purchased))
            session.record(
                step.slate,
                Reaction(r.clicked, r.purchased, r.dismissed, r.left, satisfaction, "", r.brain),
            )
        if terms:
            visit_purchase, visit_leave, _ = _need_mixture(
                bound.need_cdf, np.array(terms), np.array(before), np.array(after)
            )
            purchase, leave = purchase + visit_purchase, leave + visit_leave
    return LogLikelihood(click, purchase, dismiss, leave, recording.steps)


@dataclass
class FitResult:
    """What :func:`fit_utility` found.

    Attributes:
        fields: the fitted fields.
        start: every fitted field's starting value.
        fitted: every fitted field's maximum-likelihood value.
        standard_errors: from the observed information (``None`` when not computed; NaN
            where the Hessian is singular or not positive definite there).
        base: the parameter set the fit started from (its other fields are kept).
        start_loglik, fitted_loglik: the log-likelihoods at the start and at the fit.
        converged, message, evaluations: the optimiser's report.
        visits, steps: the recording's size.
    """

    fields: tuple[str, ...]
    start: dict[str, float]
    fitted: dict[str, float]
    standard_errors: dict[str, float] | None
    base: BrainParams
    start_loglik: LogLikelihood
    fitted_loglik: LogLikelihood
    converged: bool
    message: str
    evaluations: int
    visits: int
    steps: int

    def params(self, fit: Mapping[str, Any] | None = None) -> BrainParams:
        """The fitted parameter set: the base's values with the fitted fields replaced."""
        utility = {**self.base.brain_kwargs}
        dynamics = {**self.base.dynamics}
        for name, value in self.fitted.items():
            (dynamics if name in DYNAMICS_FIELDS else utility)[name] = value
        return BrainParams(utility, dynamics, dict(fit or {}))

    def summary(self) -> dict[str, Any]:
        """JSON-ready: fields, values, errors, log-likelihoods, optimiser report."""
        errors = self.standard_errors or {}
        return {
            "fields": {
                name: {
                    "start": round(self.start[name], 6),
                    "fitted": round(self.fitted[name], 6),
                    "standard_error": None
                    if not math.isfinite(errors.get(name, math.nan))
                    else round(errors[name], 6),
                }
                for name in self.fields
            },
            "log_likelihood": {
                "start": self.start_loglik.to_dict(),
                "fitted": self.fitted_loglik.to_dict(),
            },
            "visits": self.visits,
            "steps": self.steps,
            "converged": self.converged,
            "message": self.message,
            "evaluations": self.evaluations,
        }


def check_fields(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` if each is a fittable field, once.

    Raises:
        ConfigError: an unknown, repeated or unfittable field.
    """
    known = set(UTILITY_FIELDS) | set(DYNAMICS_FIELDS)
    out = []
    for name in names:
        if name not in known:
            raise ConfigError(
                f"--fit: unknown field {name!r}; expected UtilityParams fields "
                f"({', '.join(UTILITY_FIELDS)}) or SessionDynamics fields "
                f"({', '.join(DYNAMICS_FIELDS)})"
            )
        if name in NOT_FITTABLE:
            raise ConfigError(f"--fit: {name!r} changes only what users say; it cannot be fitted")
        if name in out:
            raise ConfigError(f"--fit: {name!r} is named twice")
        out.append(name)
    if not out:
        raise ConfigError("--fit: name at least one field")
    return tuple(out)


def fit_utility(
    recording: Recording,
    fields: Sequence[str] = DEFAULT_FIELDS,
    *,
    base: BrainParams | None = None,
    standard_errors: bool = True,
    max_iterations: int = 200,
) -> FitResult:
    """Maximum-likelihood values of ``fields`` for ``recording`` (see the module docstring).

    Args:
        recording: the recorded visits.
        fields: :class:`~simrec.brains.utility.UtilityParams` and
            :class:`~simrec.session.SessionDynamics` fields to fit; the others keep
            ``base``'s values.
        base: the starting parameter set (default: the brain's defaults, under the
            recording's dynamics).
        standard_errors: compute them (about ``2 * len(fields) ** 2`` more evaluations).
        max_iterations: the optimiser's iteration budget.

    Raises:
        ConfigError: a bad field list, an empty recording, or scipy missing.
    """
    try:
        from scipy.optimize import minimize
    except ImportError:
        raise ConfigError("fitting needs scipy: pip install 'simrec[calibration]'") from None
    names = check_fields(fields)
    if recording.steps == 0:
        raise ConfigError("the recording has no steps to fit")
    base = base or BrainParams({}, {})
    utility0 = UtilityParams(**base.brain_kwargs)
    dynamics0 = dataclasses.replace(recording.dynamics, **base.dynamics)
    start = {n: float(getattr(dynamics0 if n in DYNAMICS_FIELDS else utility0, n)) for n in names}
    low = np.array([BOUNDS[n][0] for n in names])
    high = np.array([BOUNDS[n][1] for n in names])
    x0 = np.clip(np.array([start[n] for n in names]), low, high)
    counter = {"evaluations": 0}

    def at(x: np.ndarray) -> LogLikelihood:
        counter["evaluations"] += 1
        values = dict(zip(names, (float(v) for v in x), strict=True))
        utility = dataclasses.replace(
            utility0, **{n: v for n, v in values.items() if n in UTILITY_FIELDS}
        )
        dynamics = dataclasses.replace(
            dynamics0, **{n: v for n, v in values.items() if n in DYNAMICS_FIELDS}
        )
        return log_likelihood(recording, utility, dynamics)

    def objective(x: np.ndarray) -> float:
        return -at(x).per_step

    result = minimize(
        objective,
        x0,
        method="L-BFGS-B",
        bounds=list(zip(low, high, strict=True)),
        options={"maxiter": max_iterations},
    )
    x = np.asarray(result.x, dtype=np.float64)
    errors = _standard_errors(lambda v: -at(v).total, x, low, high) if standard_errors else None
    return FitResult(
        fields=names,
        start=start,
        fitted=dict(zip(names, (float(v) for v in x), strict=True)),
        standard_errors=dict(zip(names, errors, strict=True)) if errors is not None else None,
        base=BrainParams(dict(base.brain_kwargs), dict(base.dynamics)),
        start_loglik=at(x0),
        fitted_loglik=at(x),
        converged=bool(result.success),
        message=str(result.message),
        evaluations=counter["evaluations"],
        visits=len(recording.visits),
        steps=recording.steps,
    )


def _standard_errors(nll: Any, x: np.ndarray, low: np.ndarray, high: np.ndarray) -> list[float]:
    """Square roots of the inverse Hessian's diagonal of ``nll`` at ``x`` (central
    differences; steps kept inside the bounds). NaN where it is not positive definite."""
    p = len(x)
    h = 1e-3 * np.maximum(1.0, np.abs(x))
    h = np.minimum(h, np.maximum((high - low) / 4.0, 1e-9))
    center = np.clip(x, low + h, high - h)

    def f(*moves: tuple[int, float]) -> float:
        y = center.copy()
        for i, sign in moves:
            y[i] += sign * h[i]
        return float(nll(y))

    f0 = f()
    hessian = np.zeros((p, p))
    for i in range(p):
        hessian[i, i] = (f((i, 1)) - 2.0 * f0 + f((i, -1))) / h[i] ** 2
        for j in range(i):
            value = (
                f((i, 1), (j, 1)) - f((i, 1), (j, -1)) - f((i, -1), (j, 1)) + f((i, -1), (j, -1))
            ) / (4.0 * h[i] * h[j])
            hessian[i, j] = hessian[j, i] = value
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return [math.nan] * p
    diagonal = np.diag(covariance)
    if not np.all(np.linalg.eigvalsh(hessian) > 0):
        return [math.nan] * p
    return [math.sqrt(v) if v > 0 else math.nan for v in diagonal]


__all__ = [
    "BOUNDS",
    "DEFAULT_FIELDS",
    "FLOOR",
    "FitResult",
    "LogLikelihood",
    "RecordedStep",
    "RecordedVisit",
    "Recording",
    "check_fields",
    "fit_utility",
    "log_likelihood",
    "visits_from_log",
]
