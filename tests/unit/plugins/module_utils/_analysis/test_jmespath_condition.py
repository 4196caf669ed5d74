"""JMESPath condition errors: refused at compile time, naming the option, the expression and the position."""

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._analysis.jmespath_condition import (
    Condition,
    ConditionError,
    compile_expression,
)
from ansible_collections.nodowntime.k8s.plugins.module_utils._analysis.scoring import AnalysisError, Conditions

SYNTAX_ERRORS = [
    (
        "success_condition",
        "error_rate <<",
        "success_condition 'error_rate <<' is not valid JMESPath: unexpected '<' at position 12 (after 'error_rate <')",
    ),
    (
        "success_condition",
        "error_rate < 0.01",
        (
            "success_condition 'error_rate < 0.01' is not valid JMESPath: unexpected 0 at position 13 "
            "(after 'error_rate < '); write number literals in backticks, e.g. `0.01`"
        ),
    ),
    (
        "failure_condition",
        "error_rate > `0.05",
        (
            "failure_condition 'error_rate > `0.05' is not valid JMESPath: unclosed ` delimiter at position 13 "
            "(after 'error_rate > ')"
        ),
    ),
    (
        "success_condition",
        "data.result[0",
        (
            "success_condition 'data.result[0' is not valid JMESPath: the expression is incomplete at position 13 "
            "(after 'data.result[0')"
        ),
    ),
    (
        "success_condition",
        "foo bar",
        "success_condition 'foo bar' is not valid JMESPath: unexpected 'bar' at position 4 (after 'foo ')",
    ),
    (
        "failure_condition",
        "'abc",
        "failure_condition \"'abc\" is not valid JMESPath: unclosed ' delimiter at position 0 (at the start)",
    ),
]


@pytest.mark.parametrize("field,expression,message", SYNTAX_ERRORS)
def test_syntax_errors_name_field_expression_and_position(field, expression, message):
    with pytest.raises(ConditionError) as e:
        compile_expression(field, expression)
    assert str(e.value) == message


def test_unknown_function_is_refused_at_compile_time():
    with pytest.raises(ConditionError) as e:
        compile_expression("success_condition", "length(items) > `0` && to_numbr(a) < `1`")
    assert str(e.value).startswith(
        "success_condition 'length(items) > `0` && to_numbr(a) < `1`' is not valid "
        "JMESPath: unknown function to_numbr() at position 23; known functions: abs, "
    )


def test_unknown_function_nested_in_a_filter():
    with pytest.raises(ConditionError, match=r"unknown function numbr\(\) at position 7"):
        compile_expression("failure_condition", "a[?b > numbr(c)] | length(@) > `0`")


@pytest.mark.parametrize("expression", ["", "   ", None])
def test_empty_condition_is_refused(expression):
    with pytest.raises(ConditionError, match="success_condition must be a non-empty JMESPath expression"):
        compile_expression("success_condition", expression)


def test_conditions_refuse_before_anything_is_measured():
    with pytest.raises(AnalysisError, match="failure_condition 'x >' is not valid JMESPath"):
        Conditions(success="error_rate < `0.01`", failure="x >")


def test_condition_evaluates_strictly():
    condition = Condition("success_condition", "error_rate < `0.01`")
    assert condition({"error_rate": 0.001}) is True
    assert condition({"error_rate": 0.5}) is False
    with pytest.raises(ConditionError, match="gave null, not true or false"):
        condition({"rate": 0.5})
    with pytest.raises(ConditionError, match="failed: "):
        condition({"error_rate": "0.5"})
