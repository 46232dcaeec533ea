"""Scenario files: which users, which policies, which behaviour checks (YAML, schema-validated).

A scenario names an env (a preset, or a catalog and a persona pool), the brain, the
seeds and sessions to run, scripted events applied to every persona, the policies to
compare and the assertions that must hold. Every field is validated; an error names the
file, the line and the field::

    scenarios/x.yaml:12: field 'policies.mmr.lam': ...

Schema (all fields optional unless marked)::

    name: novelty_trap               # default: the file name
    description: ...
    env: golf                        # a preset: name, Gymnasium id or preset file
    catalog: {generate: {domain: golf, n_items: 200, seed: 0}}   # or a file; overrides env
    personas: personas/readers       # dir/file (relative to this file), or
                                     # {generate: {domain: golf, n: 40, seed: 1}}
    persona_events: keep             # keep | drop the personas' own intents and drifts
    brain: utility
    brain_kwargs: {category_weight: 0.5}   # or a params file: brain_kwargs: calibrated.yaml
    cache: cache/run.sqlite          # the LLM users' and LLM policies' recording, replayed
                                     # (no API calls);
                                     # or {path: ..., mode: record|replay|off};
                                     # SIMREC_CACHE_MODE=record re-records without editing
    dynamics: {category_decay: 0.9}  # SessionDynamics overrides
    episodes: 30                     # sessions per seed
    seeds: 10                        # 10 = seeds 0..9, or an explicit list
    horizon: 20                      # turns per session at most
    slate_size: 5
    conversational: false            # actions carry a message; policies that return a
                                     # bare slate say nothing
    events:                          # applied to every persona of the pool
      - intent: {at_turn: 3, says: "Only dog-friendly courses, please.",
                 constraint: {field: tags, op: has, value: dog-friendly}}
      - drift: {at_turn: 8, tastes: {category: {desert: 2.0}}}
    metrics: {first_turns: 5, novelty_turns: 3, steer_window: 5, drift_window: 4, drift_lag: 2}
    report: [cold_start, novelty]    # behaviours to print (default: all); JSON/CSV have all
    gauntlet: true                   # add the degenerate policies of simrec.policies.gauntlet
                                     # and check that none passes an assertion in the place
                                     # of the policy it endorses (see simrec.scenario_gauntlet)
    policies:                        # label: built-in name, dotted path, or a mapping
      random: random
      mmr: {policy: mmr, lam: 0.3}
      mine: {policy: "mypkg.policies:MyPolicy", some_param: 1}
      ppo: {policy: "stable_baselines3:PPO", load: models/ppo.zip}   # a saved SB3 model;
                                     # trained on ScoreSlateWrapper? add action_form: score (or
                                     # leave it out: the model's action space selects it)
      gen: {policy: "mypkg:Gen", action_form: semantic_id}   # emits semantic ids (default:
                                     # the policy's own action_form); adds the `actions`
                                     # behaviour (hallucination_rate) to the results
    assertions:                      # hold on the 95% interval over seeds
      - linucb.cold_start.ctr_at_5 > random.cold_start.ctr_at_5
      - mmr.novelty.return >= 10
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simrec.catalog import Catalog
from simrec.constraints import Constraint
from simrec.env import resolve_catalog
from simrec.errors import ArgumentError, ConfigError, SimrecError, located
from simrec.persona import Drift, Intent, Persona, load_personas
from simrec.persona import _tastes as parse_tastes
from simrec.semantic_ids.slate import ACTION_FORMS, ITEM_INDEX
from simrec.session import SessionDynamics
from simrec.validation import SEED_MAX, Fields, number_expected
from simrec.yamlio import YamlDoc, load_yaml, parse_yaml

BEHAVIOURS = ("cold_start", "novelty", "steerability", "drift", "actions")
TOP_LEVEL = frozenset(
    {
        "name", "description", "env", "catalog", "personas", "persona_events", "brain",
        "brain_kwargs", "cache", "dynamics", "episodes", "seeds", "horizon", "slate_size",
        "conversational", "events", "metrics", "policies", "assertions", "report", "gauntlet",
    }
)  # fmt: skip
METRIC_SETTINGS = {
    "first_turns": 5,
    "novelty_turns": 3,
    "steer_window": 5,
    "drift_window": 4,
    "drift_lag": 2,
}
OPS = (">=", "<=", ">", "<")
_REF = r"[A-Za-z_][\w-]*\.[a-z_]+\.[a-z_0-9]+"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_ASSERTION = re.compile(rf"^\s*({_REF})\s*(>=|<=|>|<)\s*({_REF}|{_NUMBER})\s*$")
_LABEL = re.compile(r"^[A-Za-z_][\w-]*$")
ORACLE_RELATIVE = frozenset(
    {"normalized_return", "relative_before", "relative_after", "adaptation"}
)
"""Metrics measured against the oracle's on the same seeds (they need an oracle policy)."""


@dataclass(frozen=True)
class PolicySpec:
    """One policy of a scenario: its label, what to build and how."""

    label: str
    policy: str
    params: dict[str, Any]
    load: str | None = None
    wrapper: str | None = None
    """A loaded model's action wrapper, from ``action_form: score`` (or ``pkg.module:W``)."""
    action_form: str | None = None
    """What the policy's slates are made of, as the file says (``None``: the policy's own)."""
    resolved_form: str = ITEM_INDEX
    """``action_form``, or what the policy declares (found when the file is loaded)."""


@dataclass(frozen=True)
class MetricRef:
    """``policy.behaviour.metric``: one figure of a scenario's results."""

    policy: str
    behaviour: str
    metric: str

    def __str__(self) -> str:
        return f"{self.policy}.{self.behaviour}.{self.metric}"


@dataclass(frozen=True)
class Assertion:
    """A check on the results: ``left op right`` where right is a figure or a number.

    Comparisons hold on the interval: ``a > b`` needs the lower bound of ``a`` above the
    upper bound of ``b``; ``a >= 0.3`` needs the lower bound of ``a`` at least 0.3.
    """

    text: str
    left: MetricRef
    op: str
    right: MetricRef | float
    line: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario, ready to run (see :func:`simrec.scenario_run.run_scenario`)."""

    name: str
    description: str
    source: str
    catalog: Catalog
    personas: list[Persona]
    env_kwargs: dict[str, Any]
    episodes: int
    seeds: list[int]
    events: tuple[Intent | Drift, ...]
    settings: dict[str, int]
    policies: dict[str, PolicySpec]
    assertions: list[Assertion] = field(default_factory=list)
    report: tuple[str, ...] = BEHAVIOURS
    gauntlet: tuple[str, ...] = ()
    """Labels of the policies ``gauntlet: true`` added (empty without it)."""

    @property
    def drift_turn(self) -> int | None:
        """The turn of the scenario's first drift event (drift metrics need one)."""
        drifts = [e.at_turn for e in self.events if isinstance(e, Drift)]
        return min(drifts) if drifts else None

    def metric_names(self) -> dict[str, tuple[str, ...]]:
        """The metrics each behaviour reports under this scenario's settings."""
        t, n = self.settings["first_turns"], self.settings["novelty_turns"]
        names = {
            "cold_start": (
                f"ctr_at_{t}", f"purchase_rate_at_{t}", "turns_to_click", "turns_to_purchase",
                "return", "normalized_return",
            ),
            "novelty": (
                "ild", "coverage", "visit_coverage", "novelty", "repetition", "concentration",
                f"ctr_at_{n}", "ctr_decay", "satisfaction_slope", "final_satisfaction", "churn",
                "session_length", "return",
            ),
            "steerability": (
                "compliance", "compliance_before", "base_rate", "listening", "turns_to_comply",
                "anticipated", "followed", "satisfaction_followed", "satisfaction_ignored",
                "churn_followed", "churn_ignored", "requests",
            ),
            "drift": (
                "ctr_before", "ctr_dip", "ctr_after", "recovery", "relative_before",
                "relative_after", "adaptation",
            ),
            "actions": ("hallucination_rate",),
        }  # fmt: skip
        if self.drift_turn is None:
            del names["drift"]
        if not self.semantic_ids:
            del names["actions"]
        return names

    @property
    def semantic_ids(self) -> bool:
        """Whether a policy names slates by semantic ids (then ``actions`` is reported)."""
        return any(spec.resolved_form != ITEM_INDEX for spec in self.policies.values())

    @property
    def own_policies(self) -> list[str]:
        """The labels of the policies the file names (without the gauntlet's)."""
        return [label for label in self.policies if label not in self.gauntlet]

    @property
    def oracle_label(self) -> str | None:
        """The label of the scenario's (first) oracle policy, used to normalise returns."""
        return next((s.label for s in self.policies.values() if s.policy == "oracle"), None)

    def session_seed(self, seed: int) -> int:
        """First session seed of ``seed``: seeds own disjoint blocks of ``episodes`` sessions."""
        return seed * self.episodes


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Raises:
        ConfigError: naming the file, the line and the field of the first problem.
    """
    doc = load_yaml(path, ConfigError)
    return scenario_from_doc(doc, Path(path).resolve().parent, Path(path).stem)


def parse_scenario(text: str, source: str = "<scenario>", base_dir: Path | None = None) -> Scenario:
    """Validate scenario YAML text (relative paths resolve against ``base_dir``)."""
    doc = parse_yaml(text, source, ConfigError)
    return scenario_from_doc(doc, base_dir or Path.cwd(), Path(source).stem)


def scenario_from_doc(doc: YamlDoc, base_dir: Path, default_name: str) -> Scenario:
    """Validate a parsed scenario document (see the module docstring for the schema)."""
    f = Fields.from_doc(doc, ConfigError)
    f.reject_unknown(TOP_LEVEL)
    env_kwargs = _env_kwargs(f, base_dir)
    catalog = _located(f, "catalog", lambda: resolve_catalog(env_kwargs.pop("catalog")))
    personas = _personas(f, env_kwargs.pop("personas"), base_dir)
    events = tuple(_event(f.element("events", i, v), catalog) for i, v in f.items_of("events", []))
    if f.choice("persona_events", ("keep", "drop"), "keep") == "drop":
        personas = [dataclasses.replace(p, intents=(), drifts=()) for p in personas]
    personas = _with_events(personas, events)
    for persona in personas:
        _located(f, "personas", lambda p=persona: p.check_against(catalog))
    settings = _settings(f, _horizon(env_kwargs))
    scenario = Scenario(
        name=_name(f, default_name),
        description=f.string("description", ""),
        source=str(doc.source),
        catalog=catalog,
        personas=personas,
        env_kwargs=env_kwargs,
        episodes=f.integer("episodes", 20, low=1, high=100_000),
        seeds=_seeds(f),
        events=events,
        settings=settings,
        policies=_policies(f, base_dir),
        report=_report(f),
    )
    _check_cache_used(f, scenario)
    if f.boolean("gauntlet", False):
        scenario = _with_gauntlet(f, scenario)
    scenario = dataclasses.replace(scenario, policies=_check_env(f, scenario))
    _check_horizon(f, scenario)
    assertions = [_assertion(f, i, v, scenario) for i, v in f.items_of("assertions", [])]
    return dataclasses.replace(scenario, assertions=assertions)


_NAME = re.compile(r"^\w[\w.-]*$")


def _name(f: Fields, default: str) -> str:
    """The scenario's name: results are written to ``<out>/<name>.json``, so it must be a
    plain file name (no ``/``, no ``..``) that cannot write outside ``--out``."""
    if "name" not in f:
        return default
    name = f.string("name")
    if not _NAME.match(name) or ".." in name:
        f.fail(
            "name",
            f"expected a plain name of letters, digits, '_', '-' or '.' (it names the results "
            f"files), got {name!r}",
        )
    return name


def _horizon(env_kwargs: Mapping[str, Any]) -> int:
    """Turns per session: the scenario's ``horizon``, else the preset's, else the env default."""
    return env_kwargs.get("max_turns", 20)


def _check_horizon(f: Fields, scenario: Scenario) -> None:
    """Events must fit in the horizon: a request that is never made would be scored as if
    the policy had ignored or followed it."""
    horizon = _horizon(scenario.env_kwargs)
    where = "horizon" if "horizon" in f else "env"
    for i, event in enumerate(scenario.events):
        # An intent said at turn t applies from slate t + 1; a drift likewise.
        if event.at_turn >= horizon:
            kind = "intent" if isinstance(event, Intent) else "drift"
            f.element("events", i, f.raw("events")[i]).child(kind).fail(
                "at_turn",
                f"expected a turn before the horizon ({horizon} turns, from '{where}'): an "
                f"{kind} at turn {event.at_turn} applies from slate {event.at_turn + 1}, "
                "which never comes",
            )


def _check_env(f: Fields, scenario: Scenario) -> dict[str, PolicySpec]:
    """Build the env and every built-in policy once, so bad settings fail at load time
    with a line number rather than mid-run (dotted-path policies are imported only).

    Returns the policies with their action forms resolved (a spec's own ``action_form``,
    else what the policy class declares)."""
    from simrec.brains import make_brain
    from simrec.env import RecSessionEnv
    from simrec.policies import make_policy
    from simrec.policies.adapters import import_object, resolve_wrapper

    kwargs = dict(scenario.env_kwargs)
    key = "brain_kwargs" if "brain_kwargs" in f else ("brain" if "brain" in f else "env")
    brain = _located(
        f, key, lambda: make_brain(kwargs.pop("brain", "utility"), **kwargs.pop("brain_kwargs", {}))
    )
    try:
        env = RecSessionEnv(scenario.catalog, scenario.personas, brain=brain, **kwargs)
    except SimrecError as exc:
        field = str(exc).split(":", 1)[0]
        f.fail(field if field in ("slate_size", "history_window") else "env", str(exc))
    policies = f.child("policies")
    resolved = {}
    for label, spec in scenario.policies.items():
        if ":" in spec.policy:
            built = _located(policies, label, lambda s=spec: import_object(s.policy))
            if spec.wrapper is not None:
                fields = policies.child(label)
                key = "wrapper" if "wrapper" in fields else "action_form"
                _located(fields, key, lambda s=spec: resolve_wrapper(s.wrapper))
        else:
            built = _located(
                policies, label, lambda s=spec: make_policy(s.policy, env, 0, **s.params)
            )
        form = spec.action_form or getattr(built, "action_form", ITEM_INDEX)
        if form not in ACTION_FORMS:
            policies.fail(
                label,
                f"the policy declares action_form {form!r}; expected one of "
                f"{', '.join(ACTION_FORMS)}",
            )
        resolved[label] = dataclasses.replace(spec, resolved_form=form)
    return resolved


def _located(f: Fields, key: str, build: Any) -> Any:
    """Run ``build``; a simrec error becomes a ConfigError at ``key``'s line (at the line of
    the argument itself when the error names one that ``key``'s mapping sets)."""
    try:
        return build()
    except ArgumentError as exc:
        value = f.data.get(key)
        if isinstance(value, Mapping) and exc.argument in value:
            f.child(key).fail(exc.argument, str(exc))
        f.fail(key, str(exc))
    except ConfigError as exc:
        if f.source and str(exc).startswith(f.source):
            raise
        f.fail(key, str(exc))
    except SimrecError as exc:
        f.fail(key, str(exc))


# -- sections ---------------------------------------------------------------------------


def _env_kwargs(f: Fields, base_dir: Path) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if "env" in f:
        from simrec.presets import find_preset

        name = f.string("env")
        preset = _located(f, "env", lambda: find_preset(_maybe_relative(name, base_dir)))
        kwargs.update(preset.kwargs)
    for key in ("catalog", "personas"):
        if key in f:
            value = f.raw(key)
            kwargs[key] = str(_path(base_dir, value)) if isinstance(value, str) else value
        elif key not in kwargs:
            f.fail(key, "required field is missing (give it, or an env preset with 'env:')")
    if "horizon" in f:
        kwargs["max_turns"] = f.integer("horizon", low=1, high=10_000)
    if "slate_size" in f:
        kwargs["slate_size"] = f.integer("slate_size", low=1)
    if "conversational" in f:
        kwargs["conversational"] = f.boolean("conversational")
    if "brain" in f:
        kwargs["brain"] = f.string("brain")
    if isinstance(f.raw("brain_kwargs", None), str):  # a params file (simrec calibrate fit)
        from simrec.calibration.params import load_brain_params

        if kwargs.get("brain", "utility") != "utility":
            f.fail("brain_kwargs", "a params file applies to the utility brain")
        file = _path(base_dir, f.string("brain_kwargs"))
        params = _located(f, "brain_kwargs", lambda: load_brain_params(file))
        kwargs["brain_kwargs"] = dict(params.brain_kwargs)
        if params.dynamics:
            kwargs["dynamics"] = params.session_dynamics()
    elif "brain_kwargs" in f:
        brain_kwargs = f.child("brain_kwargs")
        numeric = kwargs.get("brain", "utility") == "utility"  # UtilityParams are all numbers
        kwargs["brain_kwargs"] = {
            k: brain_kwargs.number(k) if numeric else brain_kwargs.raw(k) for k in brain_kwargs
        }
    if "cache" in f and kwargs.get("brain", "utility") != "utility":  # an LLM plays the users
        kwargs["brain_kwargs"] = {**kwargs.get("brain_kwargs", {}), **_cache_options(f, base_dir)}
    if "dynamics" in f:
        dyn = f.child("dynamics")
        known = {x.name for x in dataclasses.fields(SessionDynamics)}
        dyn.reject_unknown(known)
        values = {k: dyn.number(k, low=0.0) for k in dyn}
        base = kwargs.get("dynamics") or SessionDynamics()  # a params file's, if any
        kwargs["dynamics"] = _located(f, "dynamics", lambda: dataclasses.replace(base, **values))
    return kwargs


def _maybe_relative(name: str, base_dir: Path) -> str:
    if name.endswith((".yaml", ".yml")) and not Path(name).is_absolute():
        return str(base_dir / name)
    return name


def _path(base_dir: Path, value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else base_dir / p


def _personas(f: Fields, value: Any, base_dir: Path) -> list[Persona]:
    if isinstance(value, Mapping) and "generate" in value:
        from simrec.persona_gen import generate_personas

        gen = f.child("personas").child("generate")
        gen.reject_unknown({"domain", "n", "seed"})
        domain, n, seed = gen.string("domain"), gen.integer("n", low=1), gen.integer("seed", 0)
        return _located(f, "personas", lambda: generate_personas(domain, n, seed))
    if not isinstance(value, str):
        f.fail("personas", f"expected a file or directory path or {{generate: ...}}, got {value!r}")
    return _located(f, "personas", lambda: load_personas(value))


def _event(f: Fields, catalog: Catalog) -> Intent | Drift:
    if set(f) not in ({"intent"}, {"drift"}):
        f.fail_here("expected {intent: {...}} or {drift: {...}}")
    if "intent" in f:
        e = f.child("intent")
        e.reject_unknown({"at_turn", "says", "constraint", "until_turn"})
        at_turn = e.integer("at_turn", low=0)
        constraint = Constraint.from_fields(_as_config(e.child("constraint")))
        try:
            constraint.check_against(catalog)
        except SimrecError as exc:
            e.fail("constraint", str(exc))
        return Intent(
            at_turn=at_turn,
            says=e.string("says"),
            constraint=constraint,
            until_turn=e.integer("until_turn", None, low=at_turn + 1),
        )
    e = f.child("drift")
    e.reject_unknown({"at_turn", "tastes", "says"})
    tastes = parse_tastes(_as_config(e.child("tastes")))
    for fld, values in tastes.items():
        for value in values:
            if f"{fld}={value}" not in catalog.token_index:
                e.child("tastes").child(fld).fail(value, f"{value!r} is not a {fld} in the catalog")
    return Drift(at_turn=e.integer("at_turn", low=0), tastes=tastes, says=e.string("says", None))


def _as_config(f: Fields) -> Fields:
    """The same fields, raising ConfigError (persona parsers default to PersonaError)."""
    return Fields(f.data, ConfigError, f.source, f.doc, f.path)


def _with_events(personas: list[Persona], events: tuple[Intent | Drift, ...]) -> list[Persona]:
    """Every persona with the scenario's intents and drifts added (the env is unchanged)."""
    intents = tuple(e for e in events if isinstance(e, Intent))
    drifts = tuple(e for e in events if isinstance(e, Drift))
    if not events:
        return personas
    return [
        dataclasses.replace(p, intents=p.intents + intents, drifts=p.drifts + drifts)
        for p in personas
    ]


def _settings(f: Fields, horizon: int) -> dict[str, int]:
    """Metric windows; a default longer than the horizon is cut to it, a window the file
    sets must fit (a metric over turns that never happen would be reported as measured)."""
    m = f.child("metrics", {})
    m.reject_unknown(set(METRIC_SETTINGS))
    where = "horizon" if "horizon" in f else "env"
    settings = {}
    for key, default in METRIC_SETTINGS.items():
        value = m.integer(key, min(default, horizon), low=1)
        if value > horizon:
            m.fail(
                key, f"expected at most the horizon ({horizon} turns, from '{where}'), got {value}"
            )
        settings[key] = value
    return settings


def _report(f: Fields) -> tuple[str, ...]:
    chosen = f.string_list("report", list(BEHAVIOURS))
    for i, name in enumerate(chosen):
        if name not in BEHAVIOURS:
            f.element("report", i, {}).fail_here(
                f"unknown behaviour {name!r}; expected one of: {', '.join(BEHAVIOURS)}"
            )
    return tuple(chosen)


def _seeds(f: Fields) -> list[int]:
    raw = f.raw("seeds", 5)
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw < 2:
            f.fail("seeds", f"expected at least 2 seeds (intervals need them), got {raw}")
        return list(range(raw))
    if not isinstance(raw, list):
        f.fail("seeds", f"expected a count or a list of integers, got {raw!r}")
    for i, seed in enumerate(raw):
        if number_expected(seed, 0, SEED_MAX, integer=True) is not None:
            f.element("seeds", i, {}).fail_here(
                f"expected a seed (an integer in [0, {SEED_MAX}]), got {seed!r}"
            )
    if len(set(raw)) != len(raw) or len(raw) < 2:
        f.fail("seeds", f"expected at least 2 distinct seeds, got {raw!r}")
    return list(raw)


def _policies(f: Fields, base_dir: Path) -> dict[str, PolicySpec]:
    p = f.child("policies")
    out = {}
    for label in p:
        if not _LABEL.match(str(label)):
            p.fail(str(label), "expected a label of letters, digits, '_' or '-'")
        value = p.raw(label)
        if isinstance(value, str):
            out[label] = PolicySpec(label, value, {})
            continue
        spec = p.child(label)
        name = spec.string("policy")
        load = spec.string("load", None)
        form, wrapper = _action_form(spec, load)
        reserved = ("policy", "load", "wrapper", "action_form")
        params = {k: spec.raw(k) for k in spec if k not in reserved}
        if "cache_path" in params and isinstance(params["cache_path"], str):
            params["cache_path"] = str(_path(base_dir, params["cache_path"]))
        out[label] = PolicySpec(
            label, name, params, str(_path(base_dir, load)) if load else None, wrapper, form
        )
    if not out:
        f.fail("policies", "expected at least one policy")
    from simrec.policies import POLICIES

    for label, spec in out.items():
        if ":" not in spec.policy and spec.policy not in POLICIES:
            p.fail(
                label,
                f"unknown policy {spec.policy!r}; expected one of: {', '.join(POLICIES)} "
                "or a dotted path 'package.module:Name'",
            )
    if "cache" in f:
        out = {label: _with_cache(spec, _cache_options(f, base_dir)) for label, spec in out.items()}
    return out


def _action_form(spec: Fields, load: str | None) -> tuple[str | None, str | None]:
    """A policy's ``action_form``: ``(form, None)`` for the slate forms simrec resolves
    (semantic ids: unknown ones are counted hallucinations), ``(None, wrapper)`` for a loaded
    model's action wrapper (``score`` or ``pkg.module:Wrapper``: a lossless translation of
    the model's outputs into item indices). ``wrapper:`` is the old name of the second kind.
    """
    key = "action_form"
    if "wrapper" in spec:
        if key in spec:
            spec.fail("wrapper", "give 'action_form' only ('wrapper' is its old name)")
        spec.warn("wrapper", "'wrapper' is deprecated; write 'action_form' (same values)")
        key = "wrapper"
    value = spec.string(key, None)
    if value is None or value in ACTION_FORMS:
        return value, None
    if load is None:
        from simrec.wrappers import ACTION_WRAPPERS

        spec.fail(
            key,
            f"expected one of {', '.join(ACTION_FORMS)}, or for a loaded model ('load:') an "
            f"action wrapper ({', '.join(ACTION_WRAPPERS)} or 'package.module:Wrapper'); "
            f"got {value!r}",
        )
    return None, value


def _check_cache_used(f: Fields, scenario: Scenario) -> None:
    """A ``cache:`` nothing reads is a mistake (a recording that would never be replayed)."""
    if "cache" not in f or "cache" in scenario.env_kwargs.get("brain_kwargs", {}):
        return
    if not any("cache" in spec.params for spec in scenario.policies.values()):
        f.fail(
            "cache",
            "nothing in this scenario calls an LLM (the users are played by the utility "
            "brain and no policy is an LLM policy); remove 'cache' or use an LLM brain or "
            "policy",
        )


def _with_cache(spec: PolicySpec, cache: dict[str, str]) -> PolicySpec:
    """An LLM policy's spec with the scenario's recording (unless the spec names its own);
    ``SIMREC_CACHE_MODE`` overrides the mode of its own too."""
    from simrec.policies import POLICIES

    takes = getattr(POLICIES.get(spec.policy), "config_class", None)
    if takes is None or not hasattr(takes, "cache_path"):  # not an LLM policy
        return spec
    params = dict(spec.params)
    if "cache_path" not in params:
        params.update(cache)
    elif "SIMREC_CACHE_MODE" in os.environ:
        params["cache"] = cache["cache"]
    return dataclasses.replace(spec, params=params)


def _assertion(f: Fields, index: int, value: Any, scenario: Scenario) -> Assertion:
    name = None
    if isinstance(value, Mapping):
        a = f.element("assertions", index, value)
        a.reject_unknown({"check", "name"})
        name, value = a.string("name", None), a.string("check")
    line = f.doc.line(("assertions", index)) if f.doc else None

    def fail(message: str) -> None:
        raise ConfigError(located(f.source, f"field 'assertions[{index}]': {message}", line))

    if not isinstance(value, str):
        fail(f"expected a check such as 'a.novelty.return > b.novelty.return', got {value!r}")
    match = _ASSERTION.match(value)
    if not match:
        fail(
            f"cannot read {value!r}; expected '<policy>.<behaviour>.<metric> <op> "
            "<policy>.<behaviour>.<metric>' or '<policy>.<behaviour>.<metric> <op> <number>', "
            f"with op one of {', '.join(OPS)}"
        )
    left = _ref(match.group(1), scenario, fail)
    right_text = match.group(3)
    right: MetricRef | float
    if re.fullmatch(_NUMBER, right_text):
        right = float(right_text)
        if not math.isfinite(right):  # 1e999: a check against infinity is decided in advance
            fail(f"the threshold {right_text} is not a finite number; expected a finite number")
    else:
        right = _ref(right_text, scenario, fail)
    return Assertion(value.strip(), left, match.group(2), right, line, name)


def _ref(text: str, scenario: Scenario, fail: Any) -> MetricRef:
    policy, behaviour, metric = text.split(".")
    if policy not in scenario.policies:
        fail(
            f"unknown policy {policy!r}; the scenario's policies are: {', '.join(scenario.policies)}"
        )
    names = scenario.metric_names()
    if behaviour not in names:
        extra = " (drift metrics need a drift event)" if behaviour == "drift" else ""
        fail(f"unknown behaviour {behaviour!r}; expected one of: {', '.join(names)}{extra}")
    if metric not in names[behaviour]:
        fail(
            f"unknown {behaviour} metric {metric!r}; expected one of: {', '.join(names[behaviour])}"
        )
    if metric in ORACLE_RELATIVE and scenario.oracle_label is None:
        fail(f"{metric} needs an oracle policy in the scenario (policy: oracle)")
    return MetricRef(policy, behaviour, metric)


def _with_gauntlet(f: Fields, scenario: Scenario) -> Scenario:
    from simrec.scenario_gauntlet import with_gauntlet

    return _located(f, "gauntlet", lambda: with_gauntlet(scenario))


CACHE_MODES = ("off", "record", "replay")


def _cache_options(f: Fields, base_dir: Path) -> dict[str, str]:
    """``cache: path`` or ``cache: {path, mode}`` as the cache options of an LLM brain and
    of the LLM policies (one recording holds both: their cache keys never collide).

    A scenario in CI must not call an API, so a bare path means ``replay``; the
    ``SIMREC_CACHE_MODE`` environment variable overrides the mode (``record`` to refresh
    a recording) without editing the file.
    """
    if isinstance(f.raw("cache"), dict):
        spec = f.child("cache")
        spec.reject_unknown({"path", "mode"})
        path, mode = spec.string("path"), spec.choice("mode", CACHE_MODES, "replay")
    else:
        path, mode = f.string("cache"), "replay"
    mode = os.environ.get("SIMREC_CACHE_MODE", mode)
    if mode not in CACHE_MODES:
        f.fail("cache", f"SIMREC_CACHE_MODE must be one of {', '.join(CACHE_MODES)}, got {mode!r}")
    return {"cache": mode, "cache_path": str(_path(base_dir, path))}
