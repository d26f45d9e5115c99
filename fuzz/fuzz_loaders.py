"""Coverage-guided fuzzing (atheris / libFuzzer) of the loaders: YAML -> plan schema -> rules, and packs.

    python fuzz/fuzz_loaders.py fuzz/corpus -max_total_time=300        # plans, 5 minutes
    python fuzz/fuzz_loaders.py fuzz/corpus -runs=20000

The only acceptable outcomes for any input are success or an InputError with located, one-line problems.
Anything else (another exception, a multi-line message) is a crash that libFuzzer records with its input.
"""

from __future__ import annotations

import sys
from datetime import date

import atheris

with atheris.instrument_imports():
    import cerberus  # noqa: F401  (imported lazily by compliance, only for invalid input; instrumented here too)

    from compliance import api
    from compliance.conditions import Context, compile_condition
    from compliance.engine import evaluate
    from compliance.errors import InputError
    from compliance.loader import load_bytes
    from compliance.schemas.plan import field_catalog, validate_plan

RULES = api.load_rules(["bundled"])
CATALOG = field_catalog()
AS_OF = date(2026, 11, 22)


def check_problems(exc: InputError) -> None:
    for problem in exc.problems:
        if not problem.message or "\n" in problem.message:
            raise AssertionError(f"bad problem text: {problem!r}")


def test_one_input(data: bytes) -> None:
    # Plans: the whole check path.
    try:
        doc = load_bytes(data, "fuzz.yaml")
        evaluate(RULES, validate_plan(doc), doc, AS_OF)
    except InputError as exc:
        check_problems(exc)
    # Conditions: the same bytes read as a rule's `require:` tree.
    try:
        doc = load_bytes(data, "cond.yaml")
        if isinstance(doc.data, dict):
            compile_condition(doc.data, (), Context(doc, CATALOG, RULES.parameters, fund_scope=True))
    except InputError as exc:
        check_problems(exc)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
