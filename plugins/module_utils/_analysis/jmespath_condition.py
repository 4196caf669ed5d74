# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JMESPath conditions: compiled and checked before any request, evaluated strictly after.

A condition must evaluate to true or false.  JMESPath answers null for a missing
field or a comparison of mismatched types; treating that as false would let a typo
pass a gate, so it is an error instead (Argo Rollouts likewise wants a bool).
"""

import re

try:
    import jmespath
    from jmespath import exceptions as jmespath_errors
    from jmespath.functions import Functions
except ImportError as e:  # the analysis module reports it through missing_required_lib
    JMESPATH_IMPORT_ERROR = e
    KNOWN_FUNCTIONS = frozenset()
else:
    JMESPATH_IMPORT_ERROR = None
    KNOWN_FUNCTIONS = frozenset(Functions().FUNCTION_TABLE)


class ConditionError(ValueError):
    """A condition that cannot be compiled or evaluated; the message names it."""


class Condition:
    def __init__(self, field, expression):
        self.field = field
        self.expression = expression
        self._compiled = compile_expression(field, expression)

    def __call__(self, document):
        """True or False for document; ConditionError when it yields anything else or breaks."""
        try:
            result = self._compiled.search(document)
        except Exception as e:  # noqa: BLE001 - jmespath raises TypeError too, e.g. for "x" < `1`
            raise ConditionError(f"{self.field} {self.expression!r} failed: {e}") from None
        if not isinstance(result, bool):
            shown = "null" if result is None else repr(result)
            raise ConditionError(
                f"{self.field} {self.expression!r} gave {shown}, not true or false; "
                f"check the field names and types against the response"
            )
        return result


def compile_expression(field, expression):
    """The compiled expression, or ConditionError naming field, expression and error position."""
    if not isinstance(expression, str) or not expression.strip():
        raise ConditionError(f"{field} must be a non-empty JMESPath expression, got {expression!r}")
    try:
        compiled = jmespath.compile(expression)
    except jmespath_errors.EmptyExpressionError:
        raise ConditionError(f"{field} must be a non-empty JMESPath expression") from None
    except jmespath_errors.ParseError as e:  # LexerError and IncompleteExpressionError included
        raise ConditionError(_syntax_message(field, expression, e)) from None
    _check_functions(field, expression, compiled.parsed)
    return compiled


def _syntax_message(field, expression, error):
    position = error.lex_position
    if isinstance(error, jmespath_errors.IncompleteExpressionError):
        reason = "the expression is incomplete"
    elif isinstance(error, jmespath_errors.LexerError):
        reason = error.message[:1].lower() + error.message[1:]
    else:
        reason = f"unexpected {error.token_value!r}"
    where = "at the start" if position == 0 else f"after {expression[:position]!r}"
    message = f"{field} {expression!r} is not valid JMESPath: {reason} at position {position} ({where})"
    if getattr(error, "token_type", None) == "NUMBER":
        # The commonest slip: JMESPath literals live in backticks.
        message += "; write number literals in backticks, e.g. `0.01`"
    return message


def _check_functions(field, expression, node):
    """Unknown function names only surface at evaluation in jmespath; catch them here."""
    if node.get("type") == "function_expression" and node["value"] not in KNOWN_FUNCTIONS:
        name = node["value"]
        position = re.search(rf"(?<![\w@]){re.escape(name)}\s*\(", expression).start()
        raise ConditionError(
            f"{field} {expression!r} is not valid JMESPath: unknown function {name}() "
            f"at position {position}; "
            f"known functions: {', '.join(sorted(KNOWN_FUNCTIONS))}"
        )
    for child in node.get("children", ()):
        if isinstance(child, dict):
            _check_functions(field, expression, child)
