"""An open or local model plays the user: :class:`~simrec.brains.llm.LLMBrain` on any
OpenAI-compatible Chat Completions server (vLLM, Ollama, llama.cpp's server, LiteLLM,
OpenAI).

``brain="openai"`` with ``base_url`` and ``model`` (and the key read from the variable
named by ``api_key_env``, default ``OPENAI_API_KEY``; a server on this machine needs
none). The reaction comes as JSON-schema structured output where the server honours it,
a function call where it does that, else JSON parsed from the text, probed once per
model and recorded (see :mod:`simrec.llm.backends.openai`); it is validated, repaired,
cached, counted and retried exactly like Claude's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simrec.brains.llm import LLMBrain, LLMConfig
from simrec.errors import ConfigError
from simrec.llm.backends.openai import API_KEY_ENV, MODES


@dataclass(frozen=True)
class OpenAIConfig(LLMConfig):
    """:class:`~simrec.brains.llm.LLMConfig` plus the OpenAI-compatible options.

    Attributes:
        api_key_env: the environment variable holding the key (never pass the key in
            ``brain_kwargs``: they are written to dataset manifests).
        structured_output: ``auto`` (probe the server), ``json_schema``, ``tools`` or
            ``text``.
    """

    api_key_env: str = API_KEY_ENV
    structured_output: str = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.structured_output not in MODES:
            raise ConfigError(
                f"structured_output: expected one of {', '.join(MODES)}, "
                f"got {self.structured_output!r}"
            )

    def backend_options(self) -> dict[str, Any]:
        return {"api_key_env": self.api_key_env, "structured_output": self.structured_output}


class OpenAIBrain(LLMBrain):
    """A brain whose users are played by a model behind an OpenAI-compatible server.

    Arguments are :class:`~simrec.brains.llm.LLMBrain`'s; ``model`` is required.

    Example::

        env = gym.make("simrec/Golf-v0", brain="openai", brain_kwargs={
            "base_url": "http://127.0.0.1:8000/v1", "model": "Qwen/Qwen3-8B",
            "cache": "record", "cache_path": "golf-qwen.sqlite"})
    """

    name = "openai"
    backend = "openai"
    config_class = OpenAIConfig


__all__ = ["OpenAIBrain", "OpenAIConfig"]
