"""Error types users can catch.

Every error simrec raises about user input is a :class:`SimrecError` whose message
names the file (when there is one), the line or row, the field and what was expected,
so that a mistake in a YAML persona or a CSV catalog can be fixed without a debugger.
"""

from __future__ import annotations


class SimrecError(Exception):
    """Base class of every error simrec raises about its inputs."""


class CatalogError(SimrecError, ValueError):
    """A catalog file or catalog table is malformed."""


class PersonaError(SimrecError, ValueError):
    """A persona file or persona definition is malformed."""


class ConfigError(SimrecError, ValueError):
    """An env preset, scenario or other configuration is malformed or unknown."""


class ArgumentError(ConfigError):
    """A constructor argument (a policy parameter, a brain option) has the wrong type or value.

    Attributes:
        argument: the argument's name, so a scenario can point at the YAML line that set it.
    """

    def __init__(self, message: str, argument: str) -> None:
        super().__init__(message)
        self.argument = argument


class ActionError(SimrecError, ValueError):
    """A slate passed to ``step`` is not a valid action."""


class GroundingError(SimrecError, ValueError):
    """An interaction log cannot be grounded: unreadable, missing a column, or too little
    usable data left (names the file, the line and the field)."""


class DatasetError(SimrecError):
    """A generated dataset cannot be written, resumed or read back (names the file)."""


class ReportError(SimrecError):
    """A report cannot be made: the input is not a result, dataset or fidelity file, a field
    of it is malformed (the message names the file and the field), or the plotting extra
    is not installed (the message says how to install it)."""


def located(source: str | None, message: str, line: int | None = None) -> str:
    """Prefix ``message`` with ``source`` (a file name) and ``line`` when known."""
    if source is None:
        return message
    where = f"{source}:{line}" if line is not None else str(source)
    return f"{where}: {message}"


class LLMError(SimrecError):
    """An LLM-played brain could not produce a reaction (see :mod:`simrec.brains.anthropic`)."""


class LLMConfigError(LLMError, ConfigError):
    """An LLM brain is misconfigured: no API key, SDK not installed, key rejected, bad model."""


class CacheMissError(LLMError, LookupError):
    """Replay mode found no recorded response for a request: the run diverged from the recording."""


class LLMResponseError(LLMError):
    """The model's answer stayed invalid after the repair attempt, or the API kept failing,
    and the declared fallback is ``raise``."""
