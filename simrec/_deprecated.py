"""Old import paths that keep working for one release, with a warning naming the new one."""

from __future__ import annotations

import warnings


def warn_moved(old: str, new: str) -> None:
    """Warn that module ``old`` moved to ``new`` (pointing at the importing line)."""
    warnings.warn(
        f"{old} is deprecated and will be removed in simrec 0.3; import from {new} instead",
        DeprecationWarning,
        stacklevel=3,
    )
