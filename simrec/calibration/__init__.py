"""LLM-played users checked against the offline model, and the offline model fitted to them.

* :mod:`~simrec.calibration.runs`: a scenario played by one brain (:func:`run_brain`),
  the same sessions for every brain; :func:`brain_specs` reads ``--brains``.
* :mod:`~simrec.calibration.compare`: the brains side by side (:func:`compare_brains`):
  rates, steering response and curves by position, turn and repetition, with intervals
  over seeds and paired differences.
* :mod:`~simrec.calibration.report`: the comparison as terminal tables and JSON.
* :mod:`~simrec.calibration.fit`: the utility brain's parameters by maximum likelihood on
  recorded reactions (:func:`fit_utility`).
* :mod:`~simrec.calibration.params`: params files (:func:`load_brain_params`).

``simrec calibrate compare | fit`` (:mod:`~simrec.calibration.cli`) runs them from the
command line; see docs/claude.md. Fitting needs scipy (``pip install 'simrec[calibration]'``).
"""

from simrec.calibration.compare import Comparison, compare_brains, compare_runs, curve_gaps
from simrec.calibration.fit import FitResult, Recording, fit_utility, log_likelihood
from simrec.calibration.params import BrainParams, load_brain_params, write_brain_params
from simrec.calibration.runs import BrainRun, BrainSpec, brain_specs, run_brain

__all__ = [
    "BrainParams",
    "BrainRun",
    "BrainSpec",
    "Comparison",
    "FitResult",
    "Recording",
    "brain_specs",
    "compare_brains",
    "compare_runs",
    "curve_gaps",
    "fit_utility",
    "load_brain_params",
    "log_likelihood",
    "run_brain",
    "write_brain_params",
]
