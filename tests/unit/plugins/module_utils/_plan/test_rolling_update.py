"""maxSurge/maxUnavailable: the API's validation rules and the controller's rounding."""

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan.rolling_update import resolve, validate

SURGE = "spec.strategy.rollingUpdate.maxSurge"
UNAVAILABLE = "spec.strategy.rollingUpdate.maxUnavailable"


@pytest.mark.parametrize(
    "surge, unavailable, replicas, expected",
    [
        ("25%", "25%", 4, (1, 1)),
        ("25%", "25%", 10, (3, 2)),  # 2.5 -> surge up to 3, unavailable down to 2
        ("25%", "25%", 3, (1, 0)),  # 0.75 -> 1 and 0
        ("1%", "1%", 2, (1, 0)),
        ("0%", "10%", 3, (0, 1)),  # both resolve to 0: the controller allows one unavailable
        (0, "1%", 1, (0, 1)),
        (2, 0, 5, (2, 0)),
        ("100%", "100%", 7, (7, 7)),
        ("3", "1", 5, (3, 1)),  # Ansible hands numbers over as strings
    ],
)
def test_resolve_like_the_controller(surge, unavailable, replicas, expected):
    assert resolve(surge, unavailable, replicas) == expected


@pytest.mark.parametrize(
    "surge, unavailable, error",
    [
        (0, 0, "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"),
        ("0%", "0%", 'maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0'),
        (0, "0%", "may not be 0 when `maxSurge` is 0"),
        (1, "150%", 'maxUnavailable: Invalid value: "150%": must not be greater than 100%'),
        (
            "abc",
            1,
            (
                'maxSurge: Invalid value: "abc": a valid percent string must be a numeric string followed by an '
                "ending '%'"
            ),
        ),
        (1, "-1", "maxUnavailable: Invalid value: -1: must be greater than or equal to 0"),
        (-2, 1, "maxSurge: Invalid value: -2: must be greater than or equal to 0"),
        ("5.5%", 1, "a valid percent string"),
        (True, 1, "must be an integer or percentage"),
    ],
)
def test_validation_uses_the_apis_words(surge, unavailable, error):
    errors = validate(surge, unavailable)
    assert any(error in e for e in errors), errors


@pytest.mark.parametrize("surge, unavailable", [("25%", "25%"), (1, 0), (0, 1), ("150%", 1), ("0%", "10%")])
def test_valid_pairs_pass(surge, unavailable):
    assert validate(surge, unavailable) == []


@pytest.mark.parametrize(
    "surge, unavailable, written, error",
    [
        # An option the user wrote is named as written, with the API field it maps to.
        (1, "150%", ["max_unavailable"], f'max_unavailable ({UNAVAILABLE}): Invalid value: "150%": must not be'),
        ("abc", 1, ["max_surge"], f'max_surge ({SURGE}): Invalid value: "abc": a valid percent string'),
        ("-1", 1, ["max_surge", "max_unavailable"], f"max_surge ({SURGE}): Invalid value: -1: must be greater"),
        (True, 1, ["max_surge"], f"max_surge ({SURGE}): Invalid value: True: must be an integer or percentage"),
        (0, "0%", ["max_surge", "max_unavailable"], f'max_unavailable ({UNAVAILABLE}): Invalid value: "0%": may not'),
        # The user wrote max_surge; the 0 maxUnavailable is the Deployment's own: the field alone names it.
        (0, 0, ["max_surge"], f"{UNAVAILABLE}: Invalid value: 0: may not be 0 when `maxSurge` is 0"),
        # Nothing written (a definition's own strategy): the API field alone, as the API would say it.
        (1, "150%", [], f'{UNAVAILABLE}: Invalid value: "150%": must not be greater than 100%'),
        ("abc", 1, [], f'{SURGE}: Invalid value: "abc"'),
    ],
)
def test_messages_name_the_option_as_written_and_its_api_field(surge, unavailable, written, error):
    errors = validate(surge, unavailable, written)
    assert any(e.startswith(error) for e in errors), errors
