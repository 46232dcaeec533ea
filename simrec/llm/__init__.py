"""The LLM client layer: one interface to Claude and OpenAI-compatible servers, used by
LLM-played users and LLM policies alike (see docs/llm.md).

* :mod:`~simrec.llm.request`: what a caller asks (:class:`LLMRequest`, :class:`OutputSchema`,
  :class:`SystemBlock`) and gets back (:class:`LLMResult`), :class:`InvalidAnswer`.
* :mod:`~simrec.llm.client`: :class:`LLMClient`: response cache (record / replay), calls
  through a backend, validation with one repair, accounting per role, a thread pool.
* :mod:`~simrec.llm.backends`: ``anthropic`` (Claude, per-model request shapes).
* :mod:`~simrec.llm.cache`, :mod:`~simrec.llm.accounting`: the sqlite response cache and
  the usage ledger.
* :mod:`~simrec.llm.prompts`, :mod:`~simrec.llm.validation`: the persona-reaction prompt
  (templates in ``templates/``) and its answer validation.
* :mod:`~simrec.llm.cli_support` (CLI options and the run report),
  :mod:`~simrec.llm.fake_server` (a scripted Messages API on 127.0.0.1 for tests and
  benchmarks).

Nothing here imports a provider SDK at import time, so ``import simrec`` works without
them; the SDKs are the optional extra ``simrec[llm]``.
"""

from simrec.llm.accounting import DEFAULT_PRICES, CallRecord, Price, UsageLedger, UsageSummary
from simrec.llm.cache import ResponseCache
from simrec.llm.client import LLMClient
from simrec.llm.prompts import PromptTemplate, build_request, load_template
from simrec.llm.request import (
    ROLES,
    Answer,
    InvalidAnswer,
    LLMRequest,
    LLMResult,
    OutputSchema,
    SystemBlock,
    TextBlock,
    Usage,
)
from simrec.llm.validation import ParsedReaction, parse_reaction

__all__ = [
    "DEFAULT_PRICES",
    "ROLES",
    "Answer",
    "CallRecord",
    "InvalidAnswer",
    "LLMClient",
    "LLMRequest",
    "LLMResult",
    "OutputSchema",
    "ParsedReaction",
    "Price",
    "PromptTemplate",
    "ResponseCache",
    "SystemBlock",
    "TextBlock",
    "Usage",
    "UsageLedger",
    "UsageSummary",
    "build_request",
    "load_template",
    "parse_reaction",
]
