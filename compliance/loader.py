"""Safe YAML loading that remembers where every value came from.

Plan files and packs come from many hands, so loading is where locations are born (each value keeps its
line and column) and where YAML's hazards are bounded: size, nesting depth, alias expansion, unsafe tags
and duplicate keys (which PyYAML would otherwise resolve silently by keeping the last one).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from compliance.collector import collector_paused
from compliance.errors import InputError, Location, format_path

try:  # the C parser is several times faster; the pure-Python one gives identical nodes
    from yaml import CSafeLoader as _Parser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Parser  # type: ignore[assignment]

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 50
MAX_NODES = 2_000_000
MAX_ALIAS_TEXT = MAX_FILE_BYTES  # characters that aliases may repeat, in all: a file's own text is capped by its size

Path_ = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("null", "bool", "int", "float", "str", "timestamp")}
_MAP, _SEQ, _MERGE, _INT = _TAG + "map", _TAG + "seq", _TAG + "merge", _TAG + "int"
# Python shows an int in at most 4,300 decimal digits (about 14,284 bits): a decimal one longer is already
# refused by int(); one written in hex, octal, binary or base 60 that large is refused too, before it is shown
_MAX_INT_BITS = 14_000
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
    # whether a string value (quoted, block or tagged text) has the shape of an ISO date, which a plan's JSON
    # form uses for dates (`schemas.plan` reads them as dates); True when not known
    date_shaped_text: bool = True

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
    with collector_paused():
        return _compose_and_build(text, raw, name)


def _compose_and_build(text: str, raw: bytes, name: str) -> Document:
    doc = Document(file=name, data=None, text=raw, date_shaped_text=False)
    try:
        doc.data = _Builder(doc).build(text)
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
    return doc


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
    """Raise a located InputError at the first collection nested deeper than MAX_DEPTH."""
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


_RESOLVER = yaml.resolver.Resolver()  # SafeLoader's implicit types (null, bool, int, float, timestamp, merge)
# types-PyYAML leaves Resolver.resolve unannotated; this is the type it has: (node class, value, implicit) -> tag
_resolve_tag: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = _RESOLVER.resolve
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")  # YYYY-MM-DD: neither an int nor a float to the resolver
_PLAIN = (True, False)  # `implicit` of a plain scalar, as the resolver takes it


class _Frame:
    """A collection being built: its value so far, where it sits, and (for a mapping) the key awaiting a value."""

    __slots__ = ("value", "path", "depth", "is_map", "key", "merges", "merge_at", "merge_list",
                 "anchor", "start", "counted", "positions", "key_positions", "reach", "text_from")

    def __init__(self, value: Any, path: Path_, depth: int, start: tuple[int, int], counted: int,
                 anchor: str | None, positions: dict[Any, Any], key_positions: dict[Any, Any]):
        self.value, self.path, self.depth, self.start, self.counted = value, path, depth, start, counted
        self.is_map = isinstance(value, dict)
        self.anchor, self.positions, self.key_positions = anchor, positions, key_positions
        self.key: Any = _NO_KEY
        # mappings named by `<<:`, in priority order
        self.merges: list[tuple[dict[Any, Any], dict[Any, Any], Path_]] = []
        self.merge_at: tuple[int, int] | None = None  # the first `<<:` key of this mapping
        self.merge_list: _Frame | None = None  # set on a list that is the value of a `<<:` key: its mapping
        self.reach = depth  # the deepest level inside it, aliased collections included (its scalars: at its end)
        self.text_from = (0, 0)  # for an anchored collection: where it starts in the text, and the aliases' text so far


_NO_KEY, _MERGE_KEY = object(), object()


class _Builder:
    """Builds plain data straight from libyaml's event stream, recording positions and enforcing limits.

    No node tree is composed: the composer resolves each scalar's type through a Python call and would recurse
    on deep flow nesting; here one loop reads each event once and hands it to the handler for its type
    (`_handlers`), caches the type of repeated plain scalars (field names above all), and refuses a document past
    the nesting or expansion limit at the event that crosses it. The builder's state (the stack of collections
    being built, the innermost one, the root) lives on the builder, so that each handler stays small; the common
    scalar is handled in one call, key or value, because a call per event is the price of the split.
    """

    def __init__(self, doc: Document):
        self.doc = doc
        self.nodes = 0
        self.scalars = yaml.constructor.SafeConstructor()
        self.plain: dict[str, Any] = {}  # plain scalar text -> its value (every implicit type is immutable)
        # anchor -> (value, expanded size, path and positions of a collection (None for a scalar), where, its text,
        # the characters of text it holds once expanded)
        self.anchors: dict[str, tuple[Any, int, Path_ | None, dict[Any, Any] | None, tuple[int, int], str, int]] = {}
        self.repeated = 0  # characters of text added by aliases so far
        self.open: dict[str, _Frame] = {}  # anchored collections not yet ended
        self.heights: dict[str, int] = {}  # anchored collection -> how many levels it reaches below itself
        self.stack: list[_Frame] = []  # the collections being built, outermost first
        self.top: _Frame | None = None  # the innermost of them
        self.root: Any = _NO_KEY  # the document's value, once it is complete
        self.documents = 0

    def fail(self, at: tuple[int, int], message: str) -> InputError:
        return InputError.at(self.doc.file, at[0], at[1], message)

    def build(self, text: str) -> Any:
        parser = _Parser(text)
        try:
            return self._run(parser)
        finally:
            parser.dispose()

    def _run(self, parser: Any) -> Any:
        """Read the events one by one, each to the handler for its type, until the stream ends."""
        get = parser.get_event
        handlers = self._handlers()
        while True:
            event = get()
            if handlers[event.__class__](event):
                break
        if self.root is _NO_KEY:
            raise self.fail((1, 1), "file is empty")
        return self.root

    def _handlers(self) -> dict[type, Callable[[Any], bool | None]]:
        """Event type -> its handler; a handler returns True at the end of the stream."""
        return {yaml.ScalarEvent: self._on_scalar, yaml.AliasEvent: self._on_value,
                yaml.MappingStartEvent: self._on_start, yaml.SequenceStartEvent: self._on_start,
                yaml.MappingEndEvent: self._on_end, yaml.SequenceEndEvent: self._on_end,
                yaml.DocumentStartEvent: self._on_document, yaml.DocumentEndEvent: _ignore,
                yaml.StreamStartEvent: _ignore, yaml.StreamEndEvent: _stream_end}

    def _on_scalar(self, event: Any) -> None:
        """The common case, in short: an untagged, unanchored scalar inside a collection, as a key or a value."""
        top = self.top
        if (top is None or event.tag is not None or event.anchor is not None or top.depth >= MAX_DEPTH
                or top.merge_list is not None or self.nodes >= MAX_NODES):
            self._on_value(event)
            return
        self.nodes += 1
        mark = event.start_mark
        at = (mark.line + 1, mark.column + 1)
        key = top.key
        if key is _NO_KEY and top.is_map:  # a key: `<<` and a duplicate go the long way, to _take_key
            text = event.value
            if not event.implicit[0]:
                key = text
            elif text == "<<":
                self._take_key(top, event, yaml.ScalarEvent, at)
                return
            else:
                key = self.plain.get(text, _NO_KEY)
                if key is _NO_KEY:
                    key = self._scalar(event, at)
                if key.__class__ is not str and key.__class__ is not int:
                    key = text  # a key YAML reads as a bool, a date or a float keeps its text
            if key in top.value:
                self._take_key(top, event, yaml.ScalarEvent, at)  # refuses the duplicate, naming the first
                return
            top.key_positions[top.path + (key,)] = at
            top.key = key
            return
        if event.implicit[0]:
            value = self.plain.get(event.value, _NO_KEY)
        else:
            value = event.value
            if len(value) == 10 and value[4] == "-":
                self.doc.date_shaped_text = True
        if value is _NO_KEY:
            value = self._scalar(event, at)
        if not top.is_map:
            top.positions[top.path + (len(top.value),)] = at
            top.value.append(value)
        elif key is _MERGE_KEY:
            raise self.fail(at, "a merge key (<<) must name a mapping or a list of mappings")
        else:
            top.positions[top.path + (key,)] = at
            top.value[key] = value
            top.key = _NO_KEY

    def _counted(self, event: Any) -> tuple[tuple[int, int], _Frame | None, int]:
        """Where a value or collection begins, counted and held to the size and nesting limits: (line and
        column, the frame it goes into, its depth)."""
        mark = event.start_mark
        at = (mark.line + 1, mark.column + 1)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(at, f"document expands to more than {MAX_NODES:,} values (alias bomb?); refused")
        top = self.top
        depth = top.depth + 1 if top is not None else 0
        if depth > MAX_DEPTH:
            raise self.fail(at, f"nesting deeper than {MAX_DEPTH} levels; refused")
        return at, top, depth

    def _on_value(self, event: Any) -> None:
        """Any other scalar, or an alias: counted and held to the limits, then placed as a key or a value."""
        at, top, depth = self._counted(event)
        kind = event.__class__
        if top is not None and top.is_map and top.key is _NO_KEY:
            self._take_key(top, event, kind, at)
            return
        path, where, _ = self._place(top)
        where[path] = at
        if kind is yaml.ScalarEvent:
            value = self._scalar(event, at)
            if event.anchor is not None:
                self._anchor(event.anchor, at, (value, 0, None, None, at, event.value, len(event.value)))
        else:
            value, path, where = self._aliased(event, at, top, depth, path, where)
        if top is None:
            self.root = value
        else:
            self._attach(top, value, at, path, where)

    def _place(self, top: _Frame | None) -> tuple[Path_, dict[Any, Any], dict[Any, Any]]:
        """The path of the next value in `top`, and where its position and its keys' positions are recorded."""
        if top is None:
            return (), self.doc.positions, self.doc.key_positions
        if not top.is_map:
            path: Path_ = top.path + (len(top.value),)
        elif top.key is _MERGE_KEY:
            path = top.path + (_MERGED,)
        else:
            path = top.path + (top.key,)
        if top.key is _MERGE_KEY or top.merge_list is not None:
            return path, {}, {}  # a mapping merged in: its own positions serve the mapping using it
        return path, top.positions, top.key_positions

    def _aliased(self, event: Any, at: tuple[int, int], top: _Frame | None, depth: int, path: Path_,
                 where: dict[Any, Any]) -> tuple[Any, Path_, dict[Any, Any]]:
        """An alias as a value: what it names, counted at its full size and held to the nesting limit."""
        value, size, anchor_path, anchor_positions, _, _, _ = self._alias(event.anchor, at)
        self.nodes += size
        if self.nodes > MAX_NODES:
            raise self.fail(at, f"document expands to more than {MAX_NODES:,} values (alias bomb?); refused")
        if anchor_path is None:
            return value, path, where
        # a collection: a merge reads the positions it was built with
        reach = depth + self.heights[event.anchor]
        if reach > MAX_DEPTH:  # each anchor within the limit, each aliasing the one before
            raise self.fail(at, f"nesting deeper than {MAX_DEPTH} levels (through an alias); refused")
        if top is not None and reach > top.reach:
            top.reach = reach
        return value, anchor_path, anchor_positions

    def _on_start(self, event: Any) -> None:
        """A mapping or a list begins: counted and held to the limits, then a new frame on the stack."""
        at, top, depth = self._counted(event)
        if top is not None and top.is_map and top.key is _NO_KEY:
            raise self.fail(at, "mapping keys must be plain scalars")
        path, where, key_where = self._place(top)
        where[path] = at
        tag = event.tag
        is_map = event.__class__ is yaml.MappingStartEvent
        if tag is not None and tag != "!" and tag != (_MAP if is_map else _SEQ):
            raise self.fail(at, f"YAML tag {_short(tag)} is not allowed; plan files use plain YAML values")
        frame = _Frame({} if is_map else [], path, depth, at, self.nodes, event.anchor, where, key_where)
        if top is not None and top.key is _MERGE_KEY and not is_map:  # a list of mappings to merge
            frame.merge_list = top
        if event.anchor is not None:
            frame.text_from = (event.start_mark.index, self.repeated)  # what its text will cost at each use: see _on_end
            self._anchor(event.anchor, at, None)
            self.open[event.anchor] = frame
        self.stack.append(frame)
        self.top = frame

    def _on_end(self, event: Any) -> None:
        """A mapping or a list ends: merged, measured, remembered if anchored, and put where it belongs."""
        stack = self.stack
        frame = stack.pop()
        value = self._merged(frame) if frame.merges else frame.value
        reach = frame.reach if frame.reach > frame.depth or not value else frame.depth + 1
        if frame.anchor is not None:
            self._close_anchor(frame.anchor, frame, value, reach, event.end_mark.index)
        top = self.top = stack[-1] if stack else None
        if top is None:
            self.root = value
            return
        if reach > top.reach:
            top.reach = reach
        self._attach(top, value, frame.start, frame.path, frame.positions, frame.merge_list is not None)

    def _close_anchor(self, name: str, frame: _Frame, value: Any, reach: int, end: int) -> None:
        """An anchored collection has ended: what an alias of it will give, cost and reach."""
        del self.open[name]
        self.heights[name] = reach - frame.depth
        # its text is at most what it spans in the file, plus what aliases inside it repeated
        index, repeated = frame.text_from
        text = end - index + self.repeated - repeated
        self.anchors[name] = (value, self.nodes - frame.counted, frame.path, frame.positions, frame.start, "", text)

    def _on_document(self, event: Any) -> None:
        self.documents += 1
        if self.documents > 1:
            mark = event.start_mark
            raise self.fail((mark.line + 1, mark.column + 1),
                            "a plan file holds one YAML document; this is a second one (after ---)")

    def _attach(self, top: _Frame, value: Any, at: tuple[int, int], path: Path_, positions: dict[Any, Any],
                taken: bool = False) -> None:
        """Put a finished value into the collection that holds it."""
        if not top.is_map:
            if top.merge_list is not None:
                self._merge_source(top.merge_list, value, at, path, positions)
            top.value.append(value)
            return
        key = top.key
        top.key = _NO_KEY
        if key is not _MERGE_KEY:
            top.value[key] = value
        elif not taken:  # a list written out after `<<:` took its mappings as they ended
            for i, source in enumerate(value if isinstance(value, list) else [value]):
                self._merge_source(top, source, at, path + (i,) if isinstance(value, list) else path, positions)

    def _merge_source(self, mapping: _Frame, value: Any, at: tuple[int, int], path: Path_, positions: dict[Any,
                      Any]) -> None:
        if not isinstance(value, dict):
            raise self.fail(at, "a merge key (<<) must name a mapping or a list of mappings")
        mapping.merges.append((value, positions, path))

    def _take_key(self, top: _Frame, event: Any, kind: type, at: tuple[int, int]) -> None:
        """A mapping key: a plain scalar (or an alias of one), never a duplicate; `<<` starts a merge."""
        if kind is yaml.ScalarEvent:
            if event.value == "<<" and ((event.tag is None and event.implicit[0]) or event.tag == _MERGE):
                top.key = _MERGE_KEY
                top.merge_at = top.merge_at or at
                return
            tag = event.tag
            if tag is not None and tag != "!" and tag not in _SCALAR_TAGS:
                raise self.fail(at, "mapping keys must be plain scalars")
            key = self._scalar(event, at)
            text = event.value
            if event.anchor is not None:
                self._anchor(event.anchor, at, (key, 0, None, None, at, text, len(text)))
        elif kind is yaml.AliasEvent:
            key, _, anchor_path, _, _, text, _ = self._alias(event.anchor, at)
            if anchor_path is not None:
                raise self.fail(at, "mapping keys must be plain scalars")
        else:
            raise self.fail(at, "mapping keys must be plain scalars")
        if isinstance(key, bool) or key is None or not isinstance(key, (str, int)):
            key = text
        if key in top.value:
            first = top.key_positions[top.path + (key,)][0]
            raise self.fail(at, f"duplicate key {format_path(top.path + (key,))!s} (first defined on line {first}); "
                                f"YAML keeps only the last one, so remove one")
        top.key_positions[top.path + (key,)] = at
        top.key = key

    def _scalar(self, event: Any, at: tuple[int, int]) -> Any:
        value = event.value
        tag = event.tag
        if tag is None:
            if not event.implicit[0]:
                if len(value) == 10 and value[4] == "-":
                    self.doc.date_shaped_text = True
                return value  # quoted or block text: a string
            known = self.plain.get(value, _NO_KEY)
            if known is not _NO_KEY:
                return known
            if len(value) == 10 and _ISO_DATE.match(value):  # what the resolver and constructor make of it, sooner
                try:
                    result = date(int(value[:4]), int(value[5:7]), int(value[8:]))
                except ValueError:
                    raise self.fail(at, f"cannot read {value!r} as !!timestamp") from None
                self.plain[value] = result
                return result
            tag = _resolve_tag(yaml.ScalarNode, value, _PLAIN)
            if tag not in _SCALAR_TAGS:  # `<<` outside a key: PyYAML has no value for it either
                raise self.fail(at, f"YAML tag {_short(tag)} is not allowed; plan files use plain YAML values")
            result = value if tag == _TAG + "str" else self._construct(tag, value, at)
            self.plain[value] = result
            return result
        if tag == "!":
            tag = _resolve_tag(yaml.ScalarNode, value, event.implicit)
        if tag not in _SCALAR_TAGS:
            raise self.fail(at, f"YAML tag {_short(tag)} is not allowed; plan files use plain YAML values")
        self.doc.date_shaped_text = True  # tagged text (`!!str 2026-03-31`) may be one: not worth a test
        return self._construct(tag, value, at)

    def _construct(self, tag: str, value: str, at: tuple[int, int]) -> Any:
        """PyYAML's constructor for the tag; what it cannot read (its errors for `!!bool maybe` or `!!int ''` are
        KeyError and IndexError) or an int too large to show in a message is a located error."""
        node = yaml.ScalarNode(tag, value)
        try:
            # each base-60 part adds about 6 bits (and PyYAML's time grows with the square of the parts): too large
            if tag == _INT and value.count(":") > _MAX_INT_BITS // 5:
                raise ValueError(value)
            result = _SCALARS[tag](self.scalars, node)
            if result.__class__ is int and result.bit_length() > _MAX_INT_BITS:
                raise ValueError(value)
        except (ValueError, OverflowError, LookupError, AttributeError, yaml.YAMLError):
            shown = repr(value) if len(value) <= 60 else f"{value[:40]!r}... ({len(value):,} characters)"
            raise self.fail(at, f"cannot read {shown} as {_short(tag)}") from None
        return result

    def _anchor(self, name: str, at: tuple[int, int], scalar: tuple[Any, ...] | None) -> None:
        if name in self.anchors or name in self.open:
            first = (self.anchors[name][4] if name in self.anchors else self.open[name].start)[0]
            raise self.fail(at, f"YAML syntax error: anchor &{name} is defined twice (first on line {first}); "
                                f"rename one")
        if scalar is not None:
            self.anchors[name] = scalar

    def _alias(self, name: str, at: tuple[int, int]) -> tuple[Any, ...]:
        """What an alias names: value, expanded size (an alias counts as what a reader would walk), and for a
        collection the path and positions it was built with.

        Its text counts too, at every use: one long anchored name aliased by every fund is built once here, but
        every report, memo and JSON output would write it out once per use.
        """
        if name in self.open:  # the alias sits inside the collection it names: an endless structure
            raise self.fail(self.open[name].start, f"nesting deeper than {MAX_DEPTH} levels; refused")
        if name not in self.anchors:
            raise self.fail(at, f"YAML syntax error: found undefined alias {name!r}")
        anchor = self.anchors[name]
        self.repeated += anchor[6]
        if self.repeated > MAX_ALIAS_TEXT:
            raise self.fail(at, f"aliases repeat more than {MAX_ALIAS_TEXT:,} characters of text (alias bomb?); "
                                f"refused")
        return anchor

    def _merged(self, frame: _Frame) -> dict[Any, Any]:
        """A mapping with `<<:` keys: merged values first, in priority order; keys written here win.

        A merged value is located at the `<<:` line of the mapping that uses it, with the line it has in the
        anchored mapping as its origin.
        """
        result: dict[Any, Any] = {}
        path, at = frame.path, frame.merge_at
        positions, origins = frame.positions, self.doc.origins
        for source, source_positions, source_path in frame.merges:
            for key, value in source.items():
                if key in result:
                    continue
                result[key] = value
                if key not in frame.value:
                    positions[path + (key,)] = at
                    line = source_positions.get(source_path + (key,))
                    if line is not None and frame.positions is self.doc.positions:
                        origins[path + (key,)] = line[0]
        result.update(frame.value)
        return result


_MERGED = "<<"


def _ignore(event: Any) -> None:
    """The stream's start and a document's end: nothing to do."""


def _stream_end(event: Any) -> bool:
    return True


def _short(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


def _codepoint(character: int | str) -> str:
    code = character if isinstance(character, int) else ord(character)
    return f"U+{code:04X}"


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column] if line < len(lines) and column < len(lines[line]) else ""
