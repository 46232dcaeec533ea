"""Fidelity: does a brain playing grounded personas behave like the real users?

``simrec fidelity DIR`` (or :func:`run_fidelity`) runs the taste-alignment protocol on a
preset written by ``simrec ground`` (see :mod:`~.protocol` and :mod:`~.report` for the
measures and the fields of ``fidelity.json``).
"""

from simrec.fidelity.protocol import Protocol
from simrec.fidelity.report import run_fidelity, write_report

__all__ = ["Protocol", "run_fidelity", "write_report"]
