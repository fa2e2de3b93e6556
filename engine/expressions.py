"""Safe evaluation of the outline's XLSForm-like expressions (`${name}`, `.`, `unit_level`)."""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A lone "." is the current value; dots inside numbers ("0.5") are left alone.
CURRENT_VALUE = re.compile(r"(?<![\w.])\.(?![\w.])")
REFERENCE_PREFIX = "ref__"
CURRENT_VALUE_NAME = "value"
CONTEXT_NAMES = frozenset({"unit_level"})


_evaluators = threading.local()


def _evaluator() -> EvalWithCompoundTypes:
    """This thread's evaluator: building one costs more than most evaluations, and one
    evaluation never interleaves with another on the same thread."""
    evaluator: EvalWithCompoundTypes | None = getattr(_evaluators, "evaluator", None)
    if evaluator is None:
        evaluator = _evaluators.evaluator = EvalWithCompoundTypes()
    return evaluator


class ExpressionError(ValueError):
    """An expression cannot be parsed."""


class MissingReference(LookupError):
    """An expression needs an answer that has not been given yet."""


@dataclass(frozen=True)
class Expression:
    """A parsed expression with the question names it refers to."""

    source: str
    translated: str
    references: frozenset[str]
    uses_current_value: bool
    tree: Any = field(compare=False, repr=False)

    @classmethod
    def parse(cls, source: str) -> Expression:
        references = frozenset(REFERENCE.findall(source))
        translated = REFERENCE.sub(lambda m: REFERENCE_PREFIX + m.group(1), source)
        uses_current_value = bool(CURRENT_VALUE.search(translated))
        translated = CURRENT_VALUE.sub(CURRENT_VALUE_NAME, translated)
        try:
            tree = EvalWithCompoundTypes().parse(translated)
        except SyntaxError as error:
            raise ExpressionError(f"cannot parse expression {source!r}: {error.msg}") from error
        allowed = {REFERENCE_PREFIX + r for r in references} | CONTEXT_NAMES | {CURRENT_VALUE_NAME}
        unknown = {
            node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and node.id not in allowed
            and node.id not in ("True", "False", "None")
        }
        if unknown:
            names = ", ".join(sorted(unknown))
            raise ExpressionError(
                f"expression {source!r} uses unknown name(s) {names}; "
                "refer to answers as ${name}, to the current value as '.'"
            )
        return cls(source, translated, references, uses_current_value, tree)

    def evaluate(
        self,
        answers: Mapping[str, Any],
        context: Mapping[str, Any],
        current: Any = None,
    ) -> Any:
        """Evaluate with `answers` (name → value); raise MissingReference if one is absent."""
        names: dict[str, Any] = dict(context)
        for reference in self.references:
            if reference not in answers:
                raise MissingReference(reference)
            names[REFERENCE_PREFIX + reference] = answers[reference]
        names[CURRENT_VALUE_NAME] = current
        evaluator = _evaluator()
        evaluator.names = names
        try:
            return evaluator.eval(self.translated, previously_parsed=self.tree)
        except ZeroDivisionError:
            return None
        except (InvalidExpression, TypeError) as error:
            raise ExpressionError(f"cannot evaluate {self.source!r}: {error}") from error
