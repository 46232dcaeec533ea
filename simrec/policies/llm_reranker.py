"""An LLM reranker: a cheap retriever proposes candidates, an LLM chooses the slate.

The two-stage recommender many teams build today: each turn the visit's retriever
(``linucb`` by default: an in-session bandit; or ``popularity``, ``embedding``, ``mf``,
``ease`` ... see :mod:`simrec.policies.retrieval`) proposes ``candidates`` items, and an
LLM, shown the user's visit so far (what they said on arrival, what was shown, what they
clicked, bought and dismissed, every reply) and the candidates as delimited JSON data,
answers ``{"ranking": [ids, best first]}``. The first ``k`` ids are the slate.

The answer is validated (ids among the candidates, no id twice, at least ``k`` of them);
an invalid one is repaired once; if it is still invalid, or the API keeps failing, the
declared fallback shows the retriever's own order, and the turn is counted
(``fallbacks`` in :meth:`~simrec.policies.llm_policy.LLMPolicy.take_usage`, the
``policy`` block of the usage report) and logged, never silent.

Example::

    env = gym.make("simrec/Golf-v0")
    policy = LLMRerankerPolicy(env, retriever="linucb", candidates=20,
                               cache="record", cache_path="reranker.sqlite")
    log = run_sessions(env, policy, episodes=10)
    print(format_ledger(policy.ledger))          # the policy's calls, tokens, dollars

Everything else (backends, the cache, concurrency over visits and vector sub-envs,
accounting apart from the users') is :class:`~simrec.policies.llm_policy.LLMPolicy`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simrec.llm.request import InvalidAnswer, OutputSchema
from simrec.policies.llm_policy import Choice, LLMPolicy
from simrec.policies.llm_prompts import ids_schema, output_schema
from simrec.policies.visit import Visit


class LLMRerankerPolicy(LLMPolicy):
    """An LLM orders a retriever's candidates (see the module docstring).

    Arguments are :class:`~simrec.policies.llm_policy.LLMPolicy`'s; options are the
    fields of :class:`~simrec.policies.llm_policy.LLMPolicyConfig`.
    """

    name = "llm_reranker"
    template_name = "llm-reranker"

    def schema(self) -> OutputSchema:
        """``{"ranking": [candidate ids, best first]}``."""
        return output_schema(
            self.template, {"ranking": ids_schema(self.template.field_text("ranking", k=self.k))}
        )

    def parse(self, data: Mapping[str, Any], visit: Visit, candidates: np.ndarray) -> Choice:
        """The slate the ranking names.

        Raises:
            InvalidAnswer: no ranking, or one :meth:`ranked` refuses.
        """
        if "ranking" not in data:
            raise InvalidAnswer(["the answer has no 'ranking'"])
        return Choice(self.ranked(data["ranking"], candidates))


__all__ = ["LLMRerankerPolicy"]
