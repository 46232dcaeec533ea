"""``simrec calibrate compare | fit``: LLM-played users checked against the offline model, and
the offline model fitted to them.

::

    simrec calibrate compare SCENARIO --brains utility,anthropic [--out results/]
    simrec calibrate fit SCENARIO --brain anthropic [--fit f1,f2,...] [--out params.yaml]

Both run the scenario (every policy, every seed) with each brain; an LLM brain answers
from the scenario's ``cache:`` or ``--cache replay --cache-path FILE`` with no API call,
or live. Exit status 0, or 2 with one line naming what is wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from simrec.cli_args import positive_int
from simrec.errors import ConfigError
from simrec.llm.cli_support import add_llm_arguments, brain_kwargs_from_args


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``simrec calibrate`` to the ``simrec`` parser."""
    calibrate = commands.add_parser(
        "calibrate", help="check LLM-played users against the offline model, and fit it to them"
    )
    sub = calibrate.add_subparsers(dest="calibrate_command", required=True)
    compare = sub.add_parser(
        "compare",
        help="run a scenario with several brains and report how their users behave, side by side",
    )
    _common(compare)
    compare.add_argument(
        "--brains",
        default=None,
        help="comma-separated brains, the first the reference: utility, anthropic, openai, "
        "utility:PARAMS.yaml (default: utility and the scenario's LLM brain, else anthropic)",
    )
    compare.add_argument(
        "--policy",
        default=None,
        help="print one policy's tables instead of the policies pooled (the JSON has both; default: all policies pooled)",
    )
    compare.add_argument(
        "--out", type=Path, default=Path("results"), help="folder for <scenario>-brains.json"
    )
    compare.set_defaults(handler=_compare)

    fit = sub.add_parser(
        "fit",
        help="fit the utility brain to a brain's recorded reactions (maximum likelihood) and "
        "write a params file",
    )
    _common(fit)
    fit.add_argument(
        "--brain",
        choices=("anthropic", "openai", "utility"),
        default=None,
        help="whose reactions to fit (default: the scenario's brain if an LLM, else anthropic)",
    )
    fit.add_argument(
        "--fit",
        default=None,
        help="comma-separated UtilityParams / SessionDynamics fields to fit "
        "(default: outside_utility, position_weight, taste_weight, category_weight, "
        "purchase_base, dismiss_base, leave_base, fatigue_leave_weight)",
    )
    fit.add_argument(
        "--start",
        default=None,
        help="a params file to start from (its other values are kept; default: the defaults)",
    )
    fit.add_argument(
        "--out",
        type=Path,
        default=None,
        help="the params file to write (default: results/<scenario>-utility-params.yaml)",
    )
    fit.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    fit.add_argument(
        "--no-standard-errors",
        action="store_true",
        help="skip the standard errors (about 2 x fields^2 more likelihood evaluations)",
    )
    fit.add_argument(
        "--no-check",
        action="store_true",
        help="skip running the scenario with the default and fitted utility brains to "
        "compare their curves with the recorded ones",
    )
    fit.set_defaults(handler=_fit)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", type=Path, help="the scenario .yaml to run")
    parser.add_argument(
        "--brain-params",
        default=None,
        help="a params file for the utility brain (when the scenario's brain is another) (default: the scenario's brain_kwargs)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress lines on stderr (default: shown)"
    )
    group = add_llm_arguments(parser, title="LLM brain options (for anthropic / openai)")
    for action in group._group_actions:
        if action.dest == "concurrency":
            action.type = positive_int
            action.help = "episodes (and LLM calls) in flight at once (default 8)"


def _progress(args: argparse.Namespace) -> Any:
    if args.quiet:
        return None

    def show(brain: str, policy: str, k: int, n: int) -> None:
        print(f"  {brain}: {policy}, seed {k + 1}/{n}", file=sys.stderr, flush=True)

    return show


def _setup(args: argparse.Namespace) -> tuple[Any, dict[str, Any], dict[str, Any] | None]:
    """The scenario, the LLM options and the utility params from the command line."""
    from simrec.calibration.params import load_brain_params
    from simrec.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    options = brain_kwargs_from_args(args)
    options.pop("concurrency", None)
    params = None
    if args.brain_params is not None:
        loaded = load_brain_params(args.brain_params)
        params = {"brain_kwargs": dict(loaded.brain_kwargs), "dynamics": dict(loaded.dynamics)}
    return scenario, options, params


def _llm_brain(scenario: Any) -> str:
    own = scenario.env_kwargs.get("brain", "utility")
    return own if own in ("anthropic", "openai") else "anthropic"


def _compare(args: argparse.Namespace) -> int:
    from simrec.calibration.compare import ALL, compare_brains
    from simrec.calibration.report import print_comparison, write_comparison
    from simrec.calibration.runs import brain_specs
    from simrec.scenario_report import report_console

    scenario, options, params = _setup(args)
    names = (args.brains or f"utility,{_llm_brain(scenario)}").split(",")
    specs = brain_specs([n.strip() for n in names if n.strip()], scenario, options, params)
    if args.policy is not None and args.policy not in scenario.policies:
        raise ConfigError(
            f"--policy: {args.policy!r} is not a policy of {scenario.name}; expected one of "
            f"{', '.join(scenario.policies)}"
        )
    comparison = compare_brains(
        scenario, specs, concurrency=args.concurrency or 8, progress=_progress(args)
    )
    print_comparison(comparison, report_console(), args.policy or ALL)
    path = write_comparison(comparison, args.out / f"{scenario.name}-brains.json")
    print(f"wrote {path}")
    return 0


def _fit(args: argparse.Namespace) -> int:
    from simrec.calibration.compare import curve_gaps
    from simrec.calibration.fit import DEFAULT_FIELDS, Recording, check_fields, fit_utility
    from simrec.calibration.params import load_brain_params, write_brain_params
    from simrec.calibration.runs import BrainSpec, brain_specs, run_brain

    scenario, options, params = _setup(args)
    fields = check_fields(args.fit.split(",") if args.fit else DEFAULT_FIELDS)
    out = args.out or Path("results") / f"{scenario.name}-utility-params.yaml"
    if out.exists() and not args.overwrite:
        raise ConfigError(f"{out}: already exists; choose another --out or pass --overwrite")
    brain = args.brain or _llm_brain(scenario)
    (spec,) = brain_specs([brain], scenario, options, params)
    concurrency = args.concurrency or 8
    recorded = run_brain(scenario, spec, concurrency=concurrency, progress=_progress(args))
    logs = [log for batches in recorded.logs.values() for log in batches]
    recording = Recording.from_logs(logs, scenario.catalog, scenario.personas, scenario.env_kwargs)
    base = load_brain_params(args.start) if args.start else None
    result = fit_utility(recording, fields, base=base, standard_errors=not args.no_standard_errors)
    fitted = result.params()
    gaps = None
    if not args.no_check:
        check = [
            BrainSpec("defaults", "utility", dict(result.base.brain_kwargs), dict(result.base.dynamics)),
            BrainSpec("fitted", "utility", dict(fitted.brain_kwargs), dict(fitted.dynamics)),
        ]  # fmt: skip
        runs = [
            run_brain(scenario, s, concurrency=concurrency, progress=_progress(args)) for s in check
        ]
        gaps = {run.spec.label: curve_gaps(recorded, run) for run in runs}
    _print_fit(result, spec.label, scenario, gaps)
    info = {
        "scenario": scenario.name,
        "source": scenario.source,
        "brain": spec.label,
        "model": spec.kwargs.get("model") or _default_model(spec.brain),
        **result.summary(),
    }
    if gaps is not None:
        info["curve_gaps"] = {k: {c: round(v, 6) for c, v in g.items()} for k, g in gaps.items()}
    header = (
        f"Utility-brain parameters fitted to {result.steps} steps of {result.visits} "
        f"{spec.label}-played visits of scenario {scenario.name}\n"
        f"by `simrec calibrate fit {args.scenario} --brain {brain}` (maximum likelihood).\n"
        f"Use: simrec run PRESET --brain-params {out.name}, or brain_kwargs: {out.name} in a "
        "scenario."
    )
    write_brain_params(out, result.params(info), header, overwrite=args.overwrite)
    print(f"wrote {out}")
    if recorded.usage:
        print(recorded.usage)
    return 0


def _default_model(brain: str) -> str | None:
    if brain == "anthropic":
        from simrec.brains.anthropic import DEFAULT_MODEL

        return DEFAULT_MODEL
    return None


def _print_fit(result: Any, label: str, scenario: Any, gaps: dict | None) -> None:
    errors = result.standard_errors or {}
    print(
        f"utility brain fitted to {result.steps} steps of {result.visits} {label}-played "
        f"visits ({scenario.name}); optimiser: {result.message} ({result.evaluations} "
        "likelihood evaluations)"
    )
    print(f"{'field':<26}{'start':>10}{'fitted':>10}{'± s.e.':>10}")
    for name in result.fields:
        se = errors.get(name)
        se_text = f"{se:.3g}" if se is not None and se == se else "n/a"
        print(f"{name:<26}{result.start[name]:>10.3g}{result.fitted[name]:>10.3g}{se_text:>10}")
    a, b = result.start_loglik, result.fitted_loglik
    print(
        f"log-likelihood per step: start {a.per_step:.4f}, fitted {b.per_step:.4f} "
        f"(click {a.click / a.steps:.3f} -> {b.click / b.steps:.3f}, purchase "
        f"{a.purchase / a.steps:.3f} -> {b.purchase / b.steps:.3f}, dismiss "
        f"{a.dismiss / a.steps:.3f} -> {b.dismiss / b.steps:.3f}, leave "
        f"{a.leave / a.steps:.3f} -> {b.leave / b.steps:.3f})"
    )
    if gaps:
        print(f"curve gaps to the {label}-played visits (mean absolute difference, weighted):")
        names = list(next(iter(gaps.values())))
        print(f"{'curve':<34}" + "".join(f"{k:>10}" for k in gaps))
        for name in names:
            print(f"{name:<34}" + "".join(f"{gaps[k][name]:>10.4f}" for k in gaps))
