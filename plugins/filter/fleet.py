# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters playbooks/fleet_release.yml builds its per-cluster rows and the fleet report with: pure."""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import fleet_report


def _named(function):
    # A bad fleet_strategy or fleet_waves fails the task with the message naming the variable.
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ValueError as e:
            raise AnsibleFilterError(str(e)) from None

    call.__name__ = function.__name__
    return call


def report(hostvars, hosts, serial, strategy, at=None, max_fail_percentage=0, rollback_wave_on_halt=False):
    """Every cluster's row from its host's fact fleet_cluster, in the waves serial makes of hosts."""
    rows = [dict(hostvars[h]["fleet_cluster"]) for h in hosts if "fleet_cluster" in hostvars[h]]
    planned = fleet_report.waves(list(serial), list(hosts))
    return fleet_report.fleet(planned, rows, strategy, at, max_fail_percentage, rollback_wave_on_halt)


class FilterModule:
    def filters(self):
        return {
            "fleet_role": _named(fleet_report.role),
            "fleet_row": fleet_report.row,
            "fleet_rolled_back": fleet_report.rolled_back,
            "fleet_report": _named(report),
            "fleet_markdown": fleet_report.markdown,
            "fleet_svg": fleet_report.svg,
        }
