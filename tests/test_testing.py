"""simrec.testing: the contract checks users run against their own parts."""

from __future__ import annotations

import pytest

from simrec.brains import UtilityBrain
from simrec.catalog_gen import generate_catalog
from simrec.persona_gen import generate_personas
from simrec.reaction import Reaction
from simrec.testing import check_brain, check_catalog, check_personas


def test_the_utility_brain_passes_its_own_contract():
    check_brain(UtilityBrain())


class BuysWithoutClicking:
    name = "broken"
    deterministic = True

    def react(self, sessions, slates, messages, rngs):
        return [
            Reaction(
                [False] * len(s),
                [True] + [False] * (len(s) - 1),
                [False] * len(s),
                False,
                0.5,
                "hm",
                self.name,
            )
            for s in slates
        ]


class Flaky:
    name = "flaky"
    deterministic = True

    def __init__(self):
        self.calls = 0

    def react(self, sessions, slates, messages, rngs):
        self.calls += 1
        k = len(slates[0])
        return [
            Reaction([False] * k, [False] * k, [False] * k, False, 0.5, str(self.calls), self.name)
        ]


def test_a_brain_that_breaks_the_contract_is_caught_with_a_reason():
    with pytest.raises(AssertionError, match="slot 0: purchased without a click"):
        check_brain(BuysWithoutClicking())
    with pytest.raises(AssertionError, match="claims to be deterministic"):
        check_brain(Flaky())


def test_generated_personas_and_catalogs_pass():
    catalog = generate_catalog("books", 120, 3)
    check_catalog(catalog)
    check_personas(generate_personas("books", 5, 3), generate_catalog("books", 200, 0))
