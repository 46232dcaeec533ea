"""Contract checks users can run against their own brains, personas and catalogs.

Like PettingZoo's ``seed_test``, these are the checks simrec runs on its own parts,
packaged so a team adding a brain, a catalog or a persona library can assert the same
contract in its own test suite::

    from simrec.testing import check_brain, check_personas

    def test_my_brain():
        check_brain(MyBrain())

Each check raises :class:`AssertionError` with a message saying what broke.

:func:`check_gauntlet` does for a behaviour scenario what the others do for parts: it
puts every degenerate policy of the gauntlet in the place of every policy an assertion
endorses and requires the assertion to fail, so a team can prove its own scenarios'
verdicts cannot be gamed::

    from simrec.testing import check_gauntlet

    def test_my_scenario_cannot_be_gamed():
        check_gauntlet("scenarios/my_scenario.yaml")
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from simrec.brains.base import Brain, make_brain
from simrec.catalog import Catalog
from simrec.catalog_gen import generate_catalog
from simrec.env import RecSessionEnv
from simrec.persona import Persona, check_unique_ids
from simrec.persona_gen import generate_personas
from simrec.reaction import Reaction
from simrec.scenario import Scenario, load_scenario
from simrec.scenario_gauntlet import Substitution, with_gauntlet
from simrec.scenario_run import ScenarioResult, run_scenario


def check_reaction(reaction: Reaction, slate: Sequence[int]) -> None:
    """A reaction is well formed for ``slate`` (``-1`` marks an empty slot)."""
    k = len(slate)
    for name in ("clicked", "purchased", "dismissed"):
        flags = getattr(reaction, name)
        assert len(flags) == k, f"reaction.{name} has {len(flags)} entries for a slate of {k}"
        assert all(isinstance(f, bool) for f in flags), f"reaction.{name} must hold plain bools"
    for pos in range(k):
        c, p, d = reaction.clicked[pos], reaction.purchased[pos], reaction.dismissed[pos]
        assert not (p and not c), f"slot {pos}: purchased without a click"
        assert not (c and d), f"slot {pos}: both clicked and dismissed"
        if slate[pos] < 0:
            assert not (c or d), f"slot {pos} is empty but has feedback"
    assert isinstance(reaction.left, bool), "reaction.left must be a bool"
    assert 0.0 <= reaction.satisfaction <= 1.0, (
        f"satisfaction {reaction.satisfaction} outside [0, 1]"
    )
    assert isinstance(reaction.reply, str), "reaction.reply must be a string"
    assert reaction.brain, "reaction.brain must name the brain"


def _trace(brain: Brain, catalog: Catalog, personas: list[Persona], seed: int, steps: int) -> list:
    env = RecSessionEnv(catalog, personas, brain=brain, max_turns=8)
    policy = np.random.default_rng(seed)
    out = []
    env.reset(seed=seed)
    for _ in range(steps):
        action = policy.choice(len(catalog), size=env.slate_size, replace=True)
        _, reward, terminated, truncated, info = env.step(action)
        check_reaction(info["reaction"], info["slate"])
        out.append((info["slate"], info["reaction"], reward))
        if terminated or truncated:
            env.reset()
    return out


def check_brain(brain: Brain, domain: str = "golf", steps: int = 60) -> None:
    """``brain`` returns valid reactions in an env; if deterministic, reproducibly.

    Slates include duplicates (empty slots) on purpose.
    """
    assert isinstance(brain, Brain), "a brain needs name, deterministic and react(...)"
    catalog = generate_catalog(domain, 60, 0)
    personas = generate_personas(domain, 4, 0)
    first = _trace(brain, catalog, personas, seed=1, steps=steps)
    if brain.deterministic:
        again = _trace(brain, catalog, personas, seed=1, steps=steps)
        assert first == again, (
            "brain claims to be deterministic but the same seeds gave different reactions"
        )


def check_personas(personas: Sequence[Persona], catalog: Catalog) -> None:
    """Personas have unique ids, fit ``catalog``, round-trip through YAML and can be played."""
    check_unique_ids(personas)
    for persona in personas:
        persona.check_against(catalog)
        assert Persona.from_dict(persona.to_dict()) == persona, (
            f"persona {persona.persona_id!r} does not round-trip through its YAML form"
        )
    _trace(make_brain("utility"), catalog, list(personas), seed=0, steps=20)


def check_catalog(catalog: Catalog) -> None:
    """A catalog's encodings are consistent: features, tokens, unique ids."""
    n = len(catalog)
    assert catalog.features.shape == (n, len(catalog.feature_names)), (
        "features do not match feature_names"
    )
    assert np.isfinite(catalog.features).all(), "features contain NaN or infinity"
    assert (catalog.token_matrix.sum(axis=1) >= 1).all(), "an item has no category token"
    assert len(set(catalog.item_ids)) == n, "item ids are not unique"


def check_gauntlet(
    scenario: Scenario | str | Path, result: ScenarioResult | None = None
) -> list[Substitution]:
    """No gauntlet policy passes an assertion of ``scenario`` in the place of one it endorses.

    Args:
        scenario: a scenario or the path of its YAML file; the gauntlet's policies are
            added when it does not have ``gauntlet: true``.
        result: a run of that scenario with the gauntlet, to reuse instead of running it.

    Returns:
        Every substitution tried (each failed), for reports; empty when no assertion
        endorses a policy (e.g. only "``x`` stays below a threshold" checks).

    Raises:
        AssertionError: listing every substitution that passed an assertion.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if result is None:
        result = run_scenario(with_gauntlet(scenario))
    tried = result.substitutions
    gamed = [s.describe() for s in tried if s.passed]
    assert not gamed, (
        f"{scenario.name}: {len(gamed)} of {len(tried)} gauntlet substitutions passed an "
        "assertion:\n  " + "\n  ".join(gamed)
    )
    return tried
