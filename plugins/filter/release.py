# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters the strategy roles ask the release engine and build the report with: pure, on plain data.

Filters, not an action plugin: every decision is a pure function of data the roles already hold, so
asking costs no worker round trip and no module run, and check mode and diff need nothing of their own.
"""

import dataclasses

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import engine, report


def release_next(spec, recorded, observed):
    decided = engine.next_step(spec, recorded, observed)
    # Field by field, not dataclasses.asdict: that rebuilds each step with its own type, which for
    # ansible-core's lazy template containers is refused. A list: the steps go on to loops and to_json.
    return dict(
        {field.name: getattr(decided, field.name) for field in dataclasses.fields(decided)},
        steps=[dict(step) for step in decided.steps],
    )


class FilterModule:
    def filters(self):
        return {
            "release_next": release_next,
            "release_step": report.step,
            "release_failed": report.failed,
            "release_headline": report.headline,
        }
