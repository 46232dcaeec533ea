"""Providers behind the one LLM client layer: each turns an :class:`~simrec.llm.request.LLMRequest`
into its wire format, sends it through its official SDK and reads the answer back.

* ``anthropic`` (:mod:`.anthropic`): the Claude Messages API, with the request shape each
  Claude model accepts (:mod:`.claude_models`).
* ``openai`` (:mod:`.openai`): any OpenAI-compatible Chat Completions server (vLLM, Ollama,
  llama.cpp's server, LiteLLM, OpenAI), with JSON-schema output, function tools or JSON
  parsed from text, whichever the server honours.

:func:`make_backend` builds one by name; the SDKs are imported only then, so ``import
simrec`` works without them.
"""

from __future__ import annotations

from typing import Any

from simrec.errors import ConfigError
from simrec.llm.backends.base import Backend

BACKENDS = ("anthropic", "openai")


def make_backend(name: str, **options: Any) -> Backend:
    """The backend ``name`` built with ``options`` (see each backend's arguments).

    Raises:
        ConfigError: an unknown name.
        LLMConfigError: the SDK is missing, or no API key where one is needed.
    """
    if name == "anthropic":
        from simrec.llm.backends.anthropic import AnthropicBackend

        return AnthropicBackend(**options)
    if name == "openai":
        from simrec.llm.backends.openai import OpenAIBackend

        return OpenAIBackend(**options)
    raise ConfigError(f"unknown LLM backend {name!r}; expected one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "make_backend"]
