"""The `.compliance.yaml` format: a repository's defaults for packs, failure level, review date and plans."""

from __future__ import annotations

from compliance.model import FAIL_LEVELS
from compliance.schemas.validator import Validator

FAIL_ON = (*reversed(FAIL_LEVELS), "never")

CONFIG_VALIDATOR = Validator({
    "packs": {"type": "list", "schema": {"type": "string", "empty": False}},
    "fail_on": {"type": "string", "allowed": list(FAIL_ON)},
    "as_of": {"type": "date"},
    "plans": {"type": "list", "schema": {"type": "string", "empty": False}},
})
