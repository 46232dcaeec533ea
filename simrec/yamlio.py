"""YAML loading that remembers where every value came from.

Validation errors must name the line of the offending field. PyYAML's composed node
tree carries that information; :class:`YamlDoc` keeps it beside the plain data so a
validator can ask ``doc.line(("intents", 0, "constraint"))``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simrec.errors import SimrecError

PathKey = tuple[str | int, ...]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader when PyYAML was built with it (much faster), else the pure-Python one."""


@dataclass(frozen=True)
class YamlDoc:
    """Parsed YAML data plus the line number of every mapping key and list item."""

    data: Any
    source: str | None
    lines: dict[PathKey, int]

    def line(self, path: PathKey) -> int | None:
        """Line (1-based) of ``path``, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def _index_lines(
    node: yaml.Node,
    path: PathKey,
    lines: dict[PathKey, int],
    source: str | None,
    error: type[SimrecError],
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            child = (*path, key)
            if child in lines:
                where = f"{source}:{key_node.start_mark.line + 1}"
                raise error(
                    f"{where}: duplicate key {key!r} (first at line {lines[child]}); "
                    "YAML would silently keep only the last one"
                )
            lines[child] = key_node.start_mark.line + 1
            _index_lines(value_node, child, lines, source, error)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, i), lines, source, error)


def parse_yaml(text: str, source: str | None, error: type[SimrecError]) -> YamlDoc:
    """Parse ``text``; a syntax error becomes ``error`` naming ``source`` and the line."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else str(source)
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{where}: invalid YAML: {problem}") from None
    finally:
        loader.dispose()
    lines: dict[PathKey, int] = {}
    if node is not None:
        _index_lines(node, (), lines, source, error)
    return YamlDoc(data=data, source=source, lines=lines)


def read_text(
    path: str | Path,
    error: type[SimrecError],
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> str:
    """The text of ``path``; a file that cannot be read or is not UTF-8 raises ``error``."""
    path = Path(path)
    try:
        with path.open(encoding=encoding, newline=newline) as fh:
            return fh.read()
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not a UTF-8 text file (byte {exc.start} cannot be decoded)") from None
    except OSError as exc:
        raise error(f"{path}: cannot read file: {exc.strerror or exc}") from None


def load_yaml(path: str | Path, error: type[SimrecError]) -> YamlDoc:
    """Read and parse the YAML file at ``path``; unreadable files raise ``error``."""
    return parse_yaml(read_text(path, error), str(path), error)
