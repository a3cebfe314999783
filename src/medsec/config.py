"""Reading configuration: the one place that touches config files and the environment.

Everything is parsed once, at the edge, into pydantic models with ``extra="forbid"``. Errors name the
file, the line and the field, and say what was expected — never the offending value, which may be PHI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from medsec.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

MAX_CONFIG_BYTES = 8 * 1024 * 1024
"""Config and data files larger than this are refused rather than parsed."""

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file with the line of every mapping key and sequence item.

    Attributes:
        path: Where the document came from (for messages).
        data: The plain Python value the YAML denotes.
        lines: Location in ``data`` (a tuple of keys and indices) → 1-based line number.
    """

    path: Path
    data: Any
    lines: dict[Loc, int]

    def line_of(self, loc: Loc) -> int | None:
        """Return the line of ``loc`` or of its nearest enclosing node that has one."""
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in self.lines:
                return self.lines[loc[:cut]]
        return None


def _index_lines(node: yaml.Node, loc: Loc, out: dict[Loc, int], seen: set[int], line: int) -> None:
    """Record ``line`` for ``loc`` and, recursively, the lines of the node's children.

    A node reached again through a YAML alias is not descended into twice, so alias bombs stay cheap.
    """
    out.setdefault(loc, line)
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                _index_lines(value_node, (*loc, key_node.value), out, seen, key_node.start_mark.line + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*loc, i), out, seen, item.start_mark.line + 1)


def read_text(path: str | Path, *, limit: int, expected: str, encoding: str = "utf-8") -> str:
    """Read a whole text file, refusing files over ``limit`` bytes, with errors that name the file.

    Args:
        path: The file.
        limit: Largest size accepted, in bytes.
        expected: What the file should be, for messages (``a YAML file``).
        encoding: Its encoding (``utf-8-sig`` also drops a byte-order mark).

    Raises:
        ConfigError: When the file is missing, a directory, too large, unreadable or not UTF-8.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > limit:
            raise ConfigError(f"{path}: {size} bytes is larger than the {limit}-byte limit")
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected {expected}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None


def read_yaml(path: str | Path) -> YamlDocument:
    """Read one YAML file safely, keeping line numbers for error messages.

    Args:
        path: The file to read.

    Returns:
        The parsed document.

    Raises:
        ConfigError: When the file is missing, too large, not UTF-8 or not valid YAML.
    """
    path = Path(path)
    text = read_text(path, limit=MAX_CONFIG_BYTES, expected="a YAML file")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {type(exc).__name__}") from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _index_lines(node, (), lines, set(), node.start_mark.line + 1)
    return YamlDocument(path=path, data=data, lines=lines)


def describe_validation_error(exc: ValidationError, doc: YamlDocument, base: Loc = ()) -> str:
    """Turn a pydantic error into ``file:line: field: message`` lines, without echoing values.

    Args:
        exc: The validation error.
        doc: The document that was validated (for file and line numbers).
        base: Location in ``doc.data`` of the value that was validated.

    Returns:
        One line per problem.
    """
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        loc: Loc = (*base, *err["loc"])
        line = doc.line_of(loc)
        where = f"{doc.path}:{line}" if line is not None else str(doc.path)
        field = ".".join(str(p) for p in loc) or "(top level)"
        out.append(f"{where}: {field}: {err['msg']}")
    return "\n".join(out)


def validate_document(model: type[M], doc: YamlDocument, base: Loc = ()) -> M:
    """Validate the value at ``base`` in ``doc`` as ``model``.

    Raises:
        ConfigError: With one ``file:line: field: message`` line per problem.
    """
    value: Any = doc.data
    for key in base:
        value = value[key]
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, doc, base)) from None


def load_config(model: type[M], path: str | Path) -> M:
    """Read a YAML config file and validate it as ``model``.

    Args:
        model: The pydantic model of the config (its fields should forbid extras).
        path: The YAML file.

    Returns:
        The validated config.

    Raises:
        ConfigError: When the file cannot be read, parsed or validated.
    """
    return validate_document(model, read_yaml(path))


def secret_from_env(variable: str) -> str:
    """Return the secret held in the environment variable ``variable``.

    Configs name the variable, never the secret itself.

    Raises:
        ConfigError: When the variable is unset or empty.
    """
    value = os.environ.get(variable, "")
    if not value:
        raise ConfigError(f"environment variable {variable} is not set (it should hold a secret)")
    return value


def medsec_home() -> Path:
    """Where medsec keeps runs and state: ``$MEDSEC_HOME`` or ``./.medsec``. Nothing is created here."""
    return Path(os.environ.get("MEDSEC_HOME") or ".medsec")
