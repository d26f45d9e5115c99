"""The loader pauses the garbage collector while it builds a document and leaves it as it found it."""

from __future__ import annotations

import gc

import pytest

from compliance.errors import InputError
from compliance.loader import load_bytes
from tests.helpers import EXAMPLE_PLAN


@pytest.mark.parametrize("raw,fails", [(EXAMPLE_PLAN.read_bytes(), False), (b"a: [1,\n", True),
                                       (b"a: !!python/name:os.system x\n", True)],
                         ids=["loaded", "syntax error", "refused tag"])
@pytest.mark.parametrize("enabled", [True, False], ids=["collector on", "collector off"])
def test_the_collector_is_restored_however_loading_ends(raw, fails, enabled):
    gc.enable() if enabled else gc.disable()
    try:
        try:
            load_bytes(raw, "p.yaml")
            failed = False
        except InputError:
            failed = True
        assert failed is fails
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
