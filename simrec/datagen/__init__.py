"""Synthetic interaction datasets: sharded, resumable generation and exports.

``simrec.generate(...)`` runs sessions and returns (or writes) the five tables;
``simrec.load_dataset(path)`` reads a written dataset back with its dtypes and verifies
its checksums. See ``docs/datasets.md`` for the schema, formats and resume rules.
"""

from simrec.datagen.generate import GenerationConfig, TokenPrices, generate
from simrec.datagen.stepper import LaneStepper, SteppingBackend
from simrec.datagen.store import Dataset, load_dataset
from simrec.datagen.tables import (
    DATASET_TURN_DTYPES,
    PERSONA_DTYPES,
    SESSION_DTYPES,
    TABLES,
    ShardRecorder,
)
from simrec.datagen.vectorized import VectorBackend, VectorStepper

__all__ = [
    "DATASET_TURN_DTYPES",
    "Dataset",
    "GenerationConfig",
    "LaneStepper",
    "PERSONA_DTYPES",
    "SESSION_DTYPES",
    "ShardRecorder",
    "SteppingBackend",
    "TABLES",
    "TokenPrices",
    "VectorBackend",
    "VectorStepper",
    "generate",
    "load_dataset",
]
