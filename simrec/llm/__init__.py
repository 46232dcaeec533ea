"""Support for LLM-played users: prompts, answer validation, response cache, usage accounting.

The brain itself is :class:`simrec.brains.anthropic.AnthropicBrain` (``brain="anthropic"``).
Modules: :mod:`~simrec.llm.prompts` (templates in ``templates/``), :mod:`~simrec.llm.validation`,
:mod:`~simrec.llm.cache`, :mod:`~simrec.llm.accounting`, :mod:`~simrec.llm.cli_support` (CLI
options and the run report) and :mod:`~simrec.llm.fake_server` (a scripted Messages API for
tests and benchmarks).
Nothing here imports the Anthropic SDK, so ``import simrec`` works without it; the SDK is
the optional extra ``simrec[llm]``.
"""

from simrec.llm.accounting import DEFAULT_PRICES, CallRecord, Price, UsageLedger, UsageSummary
from simrec.llm.cache import ResponseCache
from simrec.llm.prompts import PromptTemplate, build_request, load_template
from simrec.llm.validation import InvalidAnswer, ParsedReaction, parse_reaction

__all__ = [
    "DEFAULT_PRICES",
    "CallRecord",
    "InvalidAnswer",
    "ParsedReaction",
    "Price",
    "PromptTemplate",
    "ResponseCache",
    "UsageLedger",
    "UsageSummary",
    "build_request",
    "load_template",
    "parse_reaction",
]
