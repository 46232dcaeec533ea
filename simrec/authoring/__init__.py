"""Personas from a sentence: ``simrec personas create "a retired teacher who ..." --domain golf``.

* :mod:`~simrec.authoring.vocabulary`: the catalog's fields and values, in words and as the
  answer's JSON schema.
* :mod:`~simrec.authoring.answer`: an answer turned into a validated
  :class:`~simrec.persona.Persona` (the YAML loader's checks), or every problem found.
* :mod:`~simrec.authoring.author`: :class:`PersonaAuthor`, the requests through the LLM
  client layer (cache, one repair, accounting under the role ``authoring``).
* :mod:`~simrec.authoring.files`: YAML files under ids that clash with nothing on disk.
"""

from simrec.authoring.author import AuthoringResult, PersonaAuthor, load_authoring_template
from simrec.authoring.files import write_new_personas
from simrec.authoring.vocabulary import Vocabulary

__all__ = [
    "AuthoringResult",
    "PersonaAuthor",
    "Vocabulary",
    "load_authoring_template",
    "write_new_personas",
]
