"""simrec: simulated users react to recommendation slates inside a Gymnasium env.

Importing simrec registers ``simrec/RecSession-v0`` and one env per shipped preset
(``simrec/Golf-v0``, ``simrec/Books-v0``, ``simrec/Retail-v0``)::

    import gymnasium as gym
    import simrec  # noqa: F401  (registers the envs)

    env = gym.make("simrec/Golf-v0")
"""

from simrec.catalog import Catalog, Item, load_catalog
from simrec.catalog_gen import generate_catalog
from simrec.constraints import Constraint
from simrec.env import RecSessionEnv
from simrec.errors import (
    ActionError,
    CatalogError,
    ConfigError,
    DatasetError,
    PersonaError,
    SimrecError,
)
from simrec.persona import Drift, Intent, Persona, Profile, load_persona, load_personas
from simrec.presets import register_envs
from simrec.reaction import Reaction

__version__ = "0.1.0"

register_envs()

from simrec.datagen import Dataset, generate, load_dataset  # noqa: E402 (needs the envs)

__all__ = [
    "ActionError",
    "Catalog",
    "CatalogError",
    "ConfigError",
    "Constraint",
    "Dataset",
    "DatasetError",
    "Drift",
    "Intent",
    "Item",
    "Persona",
    "PersonaError",
    "Profile",
    "Reaction",
    "RecSessionEnv",
    "SimrecError",
    "generate",
    "generate_catalog",
    "load_catalog",
    "load_dataset",
    "load_persona",
    "load_personas",
]
