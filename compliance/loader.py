"""Safe YAML loading that remembers where every value came from.

Plan files and packs come from many hands, so loading is where locations are born (each value keeps its
line and column) and where YAML's hazards are bounded: size, nesting depth, alias expansion, unsafe tags
and duplicate keys (which PyYAML would otherwise resolve silently by keeping the last one).
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compliance.errors import InputError, Location, format_path

try:  # the C parser is several times faster; the pure-Python one gives identical nodes
    from yaml import CSafeLoader as _Parser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Parser  # type: ignore[assignment]

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 50
MAX_NODES = 2_000_000

Path_ = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("null", "bool", "int", "float", "str", "timestamp")}
_MAP, _SEQ, _MERGE = _TAG + "map", _TAG + "seq", _TAG + "merge"
_SCALARS = yaml.constructor.SafeConstructor.yaml_constructors


@dataclass
class Document:
    """A loaded YAML file: plain data plus the position of every value and mapping key."""

    file: str
    data: Any
    text: bytes
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    # values a mapping took through a merge key (`<<: *core`): the line of the value in the anchored mapping;
    # such a value's own position is the merge key's line in the mapping that uses it
    origins: dict[Path_, int] = field(default_factory=dict)

    def locate(self, path: Path_, key: bool = False) -> Location:
        """Location of the value (or its key) at `path`, else of its nearest located ancestor."""
        path = tuple(path)
        if key and path in self.key_positions:
            return Location(self.file, *self.key_positions[path])
        while path not in self.positions and path:
            path = path[:-1]
        line, column = self.positions.get(path, (1, 1))
        return Location(self.file, line, column, self.origins.get(path, 0))


def load_file(path: str | Path, display_name: str | None = None) -> Document:
    """Read and parse one YAML file; every failure becomes a located InputError."""
    name = display_name or str(path)
    return load_bytes(read_file(path, name), name)


def read_file(path: str | Path, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, at most `limit` of them; every failure becomes an InputError naming the file.

    Opened without blocking and checked on the open descriptor, so a FIFO, a device or a socket given as a plan
    is refused at once instead of hanging or being read without end; the read itself is capped, because a file
    can grow after it was looked at.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError.at(name, 0, 0, "no such file") from None
    except PermissionError:
        raise InputError.at(name, 0, 0, "permission denied") from None
    except OSError as exc:
        raise InputError.at(name, 0, 0, f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError.at(name, 0, 0, "is a directory, not a YAML file")
        if not stat.S_ISREG(mode):
            raise InputError.at(name, 0, 0, "is not a regular file (a device, FIFO or socket); refused")
        size = os.fstat(fd).st_size
        if size > limit:
            raise InputError.at(name, 0, 0, f"file is {size:,} bytes; the limit is {limit:,}")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError.at(name, 0, 0, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError.at(name, 0, 0, f"file grew past the limit of {limit:,} bytes while being read")
    return data


def load_bytes(raw: bytes, name: str) -> Document:
    """Parse YAML bytes (UTF-8, optional BOM) into a Document."""
    if len(raw) > MAX_FILE_BYTES:
        raise InputError.at(name, 0, 0, f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError.at(name, line, column, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8") from None
    _refuse_deep_flow_nesting(text, name)
    with _collector_paused():
        return _compose_and_build(text, raw, name)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a document is built, and restore it however the build ends.

    Building allocates a node, a value and a position for every value in the file and frees almost none of them,
    so the collector's passes find nothing to free yet grow with the heap: a 10,000-fund plan took 2.5 times as
    long to load with them. Reference counting still frees what is dropped; the collector, back on, finds the rest.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _compose_and_build(text: str, raw: bytes, name: str) -> Document:
    try:
        node = yaml.compose(text, Loader=_Parser)
    except yaml.MarkedYAMLError as exc:
        _refuse_nesting_past_parser_limit(exc, text, name)
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        if mark and _char_at(text, mark.line, mark.column) == "\t":
            problem += " (a tab: YAML indentation must use spaces)"
        raise InputError.at(name, line, column, f"YAML syntax error: {problem}") from None
    except yaml.reader.ReaderError as exc:  # control characters; it carries a position, not a mark
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise InputError.at(name, line, column, f"control character {_codepoint(exc.character)} is not allowed in YAML; "
                                                f"remove it") from None
    except yaml.YAMLError as exc:
        raise InputError.at(name, 0, 0, "YAML error: " + " ".join(str(exc).split())) from None
    except RecursionError:
        raise InputError.at(name, 0, 0, "YAML nesting is too deep to parse") from None
    doc = Document(file=name, data=None, text=raw)
    if node is None:
        raise InputError.at(name, 1, 1, "file is empty")
    doc.data = _Builder(doc).build(node, (), 0)
    return doc


_BRACKETS = re.compile(r"[^\[\]{}]+")


def _refuse_deep_flow_nesting(text: str, name: str) -> None:
    """Refuse `[[[[...` nesting before composing: PyYAML's composer recurses in C and would crash the process.

    Block nesting is bounded by the file-size limit (each level needs more indentation); flow nesting is not.
    The bracket count is a fast over-estimate (brackets inside quoted text count too); only when it exceeds the
    limit does the exact event stream, which libyaml produces without recursion, decide and locate.
    """
    depth = peak = 0
    for char in _BRACKETS.sub("", text):
        depth += 1 if char in "[{" else -1
        peak = max(peak, depth)
    if peak <= MAX_DEPTH:
        return
    try:
        _walk_nesting(text, name)
    except yaml.MarkedYAMLError as exc:
        _refuse_nesting_past_parser_limit(exc, text, name)
    except yaml.YAMLError:
        pass  # not valid YAML anyway: compose reports the syntax error with its location


def _refuse_nesting_past_parser_limit(exc: yaml.MarkedYAMLError, text: str, name: str) -> None:
    """Give the tool's own located refusal when PyYAML's scanner stopped at its own depth limit first.

    Newer PyYAML builds (6.0.3 and later) refuse nesting past 1,000 levels, flow or block, with their own
    message, and their scanner reads ahead, so it can stop before our limit of MAX_DEPTH is reached in the event
    stream. The text before the point where it stopped is within its limit, and holds the level that crossed
    ours: walking it finds and locates that level, identically on every PyYAML.
    """
    mark = exc.problem_mark
    if mark is None or "maximum nesting depth" not in str(exc.problem):
        return
    # the truncated text ends mid-document; only a level past our limit before that matters
    with contextlib.suppress(yaml.YAMLError):
        _walk_nesting(text[: mark.index], name)


def _walk_nesting(text: str, name: str) -> None:
    """Raise a located InputError at the first collection nested deeper than MAX_DEPTH.

    libyaml produces the event stream without recursion, so this is safe however deep the text goes.
    """
    depth = -1  # the document's root collection is depth 0, as in the builder
    for event in yaml.parse(text, Loader=_Parser):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
                raise InputError.at(name, line, column, f"nesting deeper than {MAX_DEPTH} levels; refused")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


class _Builder:
    """Turns a composed node tree into plain data, recording positions and enforcing limits."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.nodes = 0
        self.scalars = yaml.constructor.SafeConstructor()
        self.built: dict[int, tuple[Any, int]] = {}  # anchored collections: value and expanded size

    def fail(self, node: yaml.Node, message: str) -> InputError:
        return InputError.at(self.doc.file, node.start_mark.line + 1, node.start_mark.column + 1, message)

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(node, f"document expands to more than {MAX_NODES:,} values (alias bomb?); refused")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nesting deeper than {MAX_DEPTH} levels; refused")
        self.doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if id(node) in self.built:
            # An alias (or merge) of a collection built before: reuse it, as PyYAML does, but count its full
            # size so the expansion limit still bounds the document as a reader would walk it. Positions inside
            # it stay at the first use; lookups here fall back to this alias, the line that brought it in.
            value, size = self.built[id(node)]
            self.nodes += size
            if self.nodes > MAX_NODES:
                raise self.fail(node, f"document expands to more than {MAX_NODES:,} values (alias bomb?); refused")
            return value
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                raise self.fail(node, f"YAML tag {_short(node.tag)} is not allowed; plan files use plain YAML values")
            try:
                return _SCALARS[node.tag](self.scalars, node)
            except (ValueError, OverflowError, yaml.YAMLError):
                raise self.fail(node, f"cannot read {node.value!r} as {_short(node.tag)}") from None
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise self.fail(node, f"YAML tag {_short(node.tag)} is not allowed; plan files use plain YAML values")
            start = self.nodes
            value = [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
            self.built[id(node)] = (value, self.nodes - start)
            return value
        if node.tag != _MAP:
            raise self.fail(node, f"YAML tag {_short(node.tag)} is not allowed; plan files use plain YAML values")
        start = self.nodes
        assert isinstance(node, yaml.MappingNode)  # composed YAML is a scalar, a sequence or a mapping
        value = self.build_mapping(node, path, depth)
        self.built[id(node)] = (value, self.nodes - start)
        return value

    def build_mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict:
        result: dict = {}
        merge_mark = next((k.start_mark for k, _ in node.value if k.tag == _MERGE), None)
        for merged in self.merge_sources(node):
            lines = {k.value: v.start_mark.line + 1 for k, v in merged.value if isinstance(k, yaml.ScalarNode)}
            for key, value in self.build(merged, path, depth + 1).items():
                if key not in result and merge_mark is not None:
                    # located at the `<<:` line of the mapping that uses it, with the anchor's line as its origin
                    self.doc.positions[path + (key,)] = (merge_mark.line + 1, merge_mark.column + 1)
                    if str(key) in lines:
                        self.doc.origins[path + (key,)] = lines[str(key)]
                result.setdefault(key, value)
        explicit: set = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                raise self.fail(key_node, "mapping keys must be plain scalars")
            key = self.build(key_node, path + ("<key>",), depth + 1)
            if isinstance(key, bool) or key is None or not isinstance(key, (str, int)):
                key = str(key_node.value)
            if key in explicit:
                first = self.doc.key_positions[path + (key,)][0]
                raise self.fail(key_node, f"duplicate key {format_path(path + (key,))!s} (first defined on line {first}); YAML keeps only the last one, so remove one")
            explicit.add(key)
            self.doc.key_positions[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            self.doc.origins.pop(path + (key,), None)  # written here explicitly: no anchor behind it
            result[key] = self.build(value_node, path + (key,), depth + 1)
        self.doc.positions.pop(path + ("<key>",), None)
        return result

    def merge_sources(self, node: yaml.MappingNode) -> list[yaml.MappingNode]:
        """Mappings named by `<<:` merge keys, in priority order."""
        sources: list[yaml.MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE:
                continue
            items = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for item in items:
                if not isinstance(item, yaml.MappingNode):
                    raise self.fail(item, "a merge key (<<) must name a mapping or a list of mappings")
                sources.append(item)
        return sources


def _short(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


def _codepoint(character: int | str) -> str:
    code = character if isinstance(character, int) else ord(character)
    return f"U+{code:04X}"


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column] if line < len(lines) and column < len(lines[line]) else ""
