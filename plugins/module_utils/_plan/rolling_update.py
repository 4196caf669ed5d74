# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maxSurge and maxUnavailable: validated with the API's rules, resolved as the controller does.

int_or_percent(value, field, written=()) -> int or "N%"; raises ValueError with the API's message
validate(max_surge, max_unavailable, written=()) -> [API-style error strings]; both zero is refused
    written: the options (max_surge, max_unavailable) the user set; a message about one of them
    names the option as written and the API field it maps to, otherwise the field alone (a value
    the Deployment or its definition already had).
resolve(max_surge, max_unavailable, replicas) -> (surge, unavailable) pods
    maxSurge rounds up, maxUnavailable rounds down; if both come out 0, unavailable
    becomes 1 (the controller's own fallback, so the rollout can still move).
"""

from __future__ import annotations

import math
import re

FIELD = "spec.strategy.rollingUpdate."
OPTION = {"maxSurge": "max_surge", "maxUnavailable": "max_unavailable"}
_PERCENT = re.compile(r"^[0-9]+%$")
_PERCENT_MSG = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%' or '93%', regex used for validation is '[0-9]+%')"
)


def _show(value):
    return f'"{value}"' if isinstance(value, str) else str(value)


def _where(field, written):
    """`max_unavailable (spec.strategy.rollingUpdate.maxUnavailable)` for an option the user wrote."""
    return f"{OPTION[field]} ({FIELD}{field})" if OPTION[field] in written else f"{FIELD}{field}"


def int_or_percent(value, field, written=()):
    """Ansible often hands numbers over as strings; "3" means 3, as a user would expect."""
    where = _where(field, written)
    if isinstance(value, bool):
        # Not TypeError: callers report every invalid field as ValueError, with the API's message.
        raise ValueError(  # noqa: TRY004
            f"{where}: Invalid value: {value}: must be an integer or percentage (e.g. '5%')"
        )
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        value = int(value)
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{where}: Invalid value: {value}: must be greater than or equal to 0")
        return value
    if isinstance(value, str) and _PERCENT.match(value):
        return value
    raise ValueError(f"{where}: Invalid value: {_show(value)}: {_PERCENT_MSG}")


def _amount(value):
    return int(value[:-1]) if isinstance(value, str) else value


def validate(max_surge, max_unavailable, written=()):
    errors, parsed = [], {}
    for field, value in (("maxSurge", max_surge), ("maxUnavailable", max_unavailable)):
        try:
            parsed[field] = int_or_percent(value, field, written)
        except ValueError as e:
            errors.append(str(e))
    if errors:
        return errors
    unavailable = f"{_where('maxUnavailable', written)}: Invalid value: {_show(parsed['maxUnavailable'])}"
    if _amount(parsed["maxUnavailable"]) == 0 and _amount(parsed["maxSurge"]) == 0:
        errors.append(f"{unavailable}: may not be 0 when `maxSurge` is 0")
    if isinstance(parsed["maxUnavailable"], str) and _amount(parsed["maxUnavailable"]) > 100:
        errors.append(f"{unavailable}: must not be greater than 100%")
    return errors


def _scaled(value, total, round_up):
    if isinstance(value, int):
        return value
    exact = _amount(value) * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def resolve(max_surge, max_unavailable, replicas):
    surge = _scaled(int_or_percent(max_surge, "maxSurge"), replicas, True)
    unavailable = _scaled(int_or_percent(max_unavailable, "maxUnavailable"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable
