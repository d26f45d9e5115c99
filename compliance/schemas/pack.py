"""The rule-pack format: what a pack file may contain, checked before any rule is compiled."""

from __future__ import annotations

from compliance.errors import InputError
from compliance.loader import Document
from compliance.model import CHECKS, DATE_PRECISIONS, PACK_AUTHORITIES, SCOPES, SEVERITIES, SOURCE_KINDS, STATUS_KINDS
from compliance.schemas.messages import problems
from compliance.schemas.validator import Validator

PACK_ID = r"[a-z0-9][a-z0-9.\-]{1,80}"

_TEXT = {"type": "string", "empty": False}
PACK_SCHEMA = {
    "pack": {"type": "dict", "required": True, "schema": {
        "id": {"type": "string", "required": True, "regex": PACK_ID},
        "title": {**_TEXT, "required": True},
        "version": {**_TEXT, "required": True},
        "jurisdiction": {**_TEXT, "required": True},
        "description": {"type": "string"},
        "extends": {"type": "list", "schema": {"type": "string", "regex": PACK_ID}},
        "test_as_of": {"type": "date"},
        "authority": {"type": "string", "allowed": list(PACK_AUTHORITIES)},
        "current_to": {"type": "date"},  # the date through which the sources were checked
        "reviewed_on": {"type": "date"},  # when the pack was last reviewed against them (an edit date)
    }},
    "parameters": {"type": "dict", "keysrules": {"type": "string", "regex": r"[a-z][a-z0-9_]*"},
                   "valuesrules": {"type": "dict", "schema": {
                       "value": {"required": True, "nullable": False},
                       "doc": {**_TEXT, "required": True},
                       "tighten": {"type": "string", "allowed": ["lower", "higher"]}}}},
    "overrides": {"type": "dict", "schema": {
        "parameters": {"type": "dict"},
        "disable": {"type": "list", "schema": {"type": "dict", "schema": {
            "rule": {**_TEXT, "required": True},
            "reason": {**_TEXT, "required": True}}}},
    }},
    "overrides_federal": {"type": "list", "schema": {"type": "dict", "schema": {
        "rule": {**_TEXT},
        "parameter": {**_TEXT},
        "reason": {**_TEXT, "required": True}}}},
    "sources": {"type": "list", "schema": {"type": "dict", "schema": {
        "id": {"type": "string", "required": True, "regex": PACK_ID},
        "title": {**_TEXT, "required": True},
        "issuer": {**_TEXT, "required": True},
        "document": {**_TEXT, "required": True},
        "date": {"type": "date", "required": True},
        "date_precision": {"type": "string", "allowed": list(DATE_PRECISIONS)},
        "kind": {"type": "string", "required": True, "allowed": list(SOURCE_KINDS)},
        "url": {"type": "string", "regex": r"https://\S+"},
        "url_note": {"type": "string"},
        "summary": {"type": "string"},
        "status": {"type": "list", "required": True, "minlength": 1, "schema": {"type": "dict", "schema": {
            "status": {"type": "string", "required": True, "allowed": list(STATUS_KINDS)},
            "since": {"type": "date", "required": True},
            "precision": {"type": "string", "allowed": list(DATE_PRECISIONS)},
            "by": {"type": "string"},
            "kind": {"type": "string", "allowed": list(SOURCE_KINDS)},
            "note": {"type": "string"}}}},
    }}},
    "rules": {"type": "list", "schema": {"type": "dict", "schema": {
        "id": {"type": "string", "required": True, "regex": PACK_ID},
        "title": {**_TEXT, "required": True},
        "headline": {**_TEXT},
        "description": {"type": "string"},
        "severity": {"type": "string", "required": True, "allowed": list(SEVERITIES)},
        "checks": {"type": "string", "allowed": list(CHECKS)},
        "relies_on": {**_TEXT},
        "scope": {"type": "string", "required": True, "allowed": list(SCOPES)},
        "select": {"type": "dict"},
        "when": {"type": "dict"},
        "require": {"type": "dict", "required": True},
        "at": {"type": "string"},
        "message": {**_TEXT, "required": True},
        "remediation": {**_TEXT, "required": True},
        "citations": {"type": "list", "required": True, "minlength": 1, "schema": {"type": "dict", "schema": {
            "source": {**_TEXT, "required": True},
            "pinpoint": {**_TEXT, "required": True}}}},
        "basis": {"type": "list", "schema": {"type": "string"}},
        "effective": {"type": "dict", "schema": {"from": {"type": "date"}, "until": {"type": "date"}}},
        "tests": {"type": "list", "schema": {"type": "dict", "schema": {
            "name": {**_TEXT, "required": True},
            "expect": {"type": "string", "required": True,
                       "allowed": ["fail", "pass", "watch", "undetermined", "not_applicable"]},
            "as_of": {"type": "date"},
            "plan": {"type": "dict"},
            "funds": {"type": "list", "schema": {"type": "dict"}}}}},
    }}},
}
PACK_VALIDATOR = Validator(PACK_SCHEMA)


def check_pack(doc: Document) -> None:
    """Refuse a pack file that does not follow the format, naming every problem's line and field."""
    if not isinstance(doc.data, dict):
        raise InputError.at(doc.file, 1, 1, "a rule pack must be a YAML mapping with a 'pack' section")
    if found := problems(doc, PACK_VALIDATOR, doc.data):
        raise InputError(found)
