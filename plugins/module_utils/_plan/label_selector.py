# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Label selectors: a LabelSelector object as the query string the list and watch APIs take.

selector_string({"matchLabels": {"app": "web"}, "matchExpressions": [...]}) -> "app=web,tier in (a,b)"
"""

from __future__ import annotations

_OPERATORS = {"In": "in", "NotIn": "notin"}


def selector_string(selector):
    selector = selector or {}
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op in _OPERATORS:
            terms.append(f"{key} {_OPERATORS[op]} ({','.join(values)})")
        elif op == "Exists":
            terms.append(key)
        elif op == "DoesNotExist":
            terms.append(f"!{key}")
        else:
            raise ValueError(f"unknown label selector operator {op!r}")
    return ",".join(terms)
