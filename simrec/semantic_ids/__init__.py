"""Semantic-id actions: slates named by hierarchical ids, hallucinations counted.

Catalog items carry a hierarchical ``semantic_id`` (``desert/arizona/heroic/hard/premium/0``).
Generative recommenders emit such ids token by token and can name items that do not
exist. This package lets them act in simrec:

* :mod:`~simrec.semantic_ids.hierarchy` — the catalog's ids as a prefix tree with
  per-level vocabularies (:class:`SemanticIdHierarchy`, :func:`hierarchy_of`);
* :mod:`~simrec.semantic_ids.slate` — resolving ids (or token codes) to items
  (:class:`SlateResolver`, :class:`ResolvedSlate`) and what counts as a hallucination;
* :mod:`~simrec.semantic_ids.wrappers` — :class:`SemanticIdSlate` (single env) and
  :class:`SemanticIdSlateVector` (native vector env).

Item indices stay the env's own action contract; these wrappers translate.
"""

from simrec.semantic_ids.hierarchy import (
    END,
    SEPARATOR,
    SemanticIdHierarchy,
    hierarchy_of,
)
from simrec.semantic_ids.slate import (
    ACTION_FORMS,
    ITEM_INDEX,
    SEMANTIC_ID,
    SEMANTIC_TOKENS,
    ResolvedSlate,
    SlateResolver,
    action_form,
)
from simrec.semantic_ids.wrappers import (
    SemanticIdSlate,
    SemanticIdSlateVector,
    for_action_form,
    slate_space,
)

__all__ = [
    "ACTION_FORMS",
    "END",
    "ITEM_INDEX",
    "SEMANTIC_ID",
    "SEMANTIC_TOKENS",
    "SEPARATOR",
    "ResolvedSlate",
    "SemanticIdHierarchy",
    "SemanticIdSlate",
    "SemanticIdSlateVector",
    "SlateResolver",
    "action_form",
    "for_action_form",
    "hierarchy_of",
    "slate_space",
]
