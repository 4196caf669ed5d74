# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet release's report: one row per cluster, its waves, and the picture.  Pure.

playbooks/fleet_release.yml runs one strategy on every cluster of an inventory group in serial
waves; each cluster records a row from its own release report (the fact nodowntime_report), and
after every wave the play writes this report from all the clusters' rows.  The clock is the
caller's: every function takes the times it writes.

    STRATEGIES                    the strategies a fleet runs, by the name fleet_strategy takes
    role(strategy, rollback_wave_on_halt) -> the strategy's role (FQCN); ValueError naming the variable
    waves(serial, hosts)          -> the hosts in waves, as ansible-core's serial batches them
    row(cluster, report, failure, started, finished, requests) -> one cluster's row
    fleet(planned, rows, strategy, at, max_fail_percentage, rollback_wave_on_halt)
                                  -> the report: every cluster, counts, halted, the clusters to roll back
    rolled_back(row, reason, error) -> the row of a cluster the fleet rolled back (or failed to)
    max_fail(percentage)          -> fleet_max_fail_percentage checked; ValueError naming it
    markdown(report)              -> the report as a Markdown table
    svg(report)                   -> clusters x time, one bar per cluster coloured by outcome
"""

from __future__ import annotations

from datetime import datetime
from html import escape

STRATEGIES = ("rolling_update", "blue_green", "canary")
# A cluster's release succeeded with these outcomes; any other fails the cluster, and the fleet halts.
SUCCEEDED = ("complete", "unchanged")
# A cluster whose API server did not answer, or that recorded nothing in a wave that ran (Ansible could
# not reach its host); and one the fleet never reached.
UNREACHABLE = "unreachable"
NOT_RUN = "not_run"
# A release that failed because the API server did not answer: _k8s.errors.unreachable's reason,
# which report.cause writes first ("Unreachable: cannot reach the API server at ...").
UNREACHABLE_CAUSE = "Unreachable: "
COLOURS = {
    "complete": "#2e7d32",
    "unchanged": "#81c784",
    "rolled_back": "#ef6c00",
    "switched_back": "#ef6c00",
    "aborted": "#ef6c00",
    "failed": "#c62828",
    UNREACHABLE: "#6a1b9a",
    NOT_RUN: "#bdbdbd",
}
OTHER_COLOUR = "#c62828"


def role(strategy, rollback_wave_on_halt=False):
    if strategy not in STRATEGIES:
        raise ValueError(f"fleet_strategy: {strategy!r} is not one of {', '.join(STRATEGIES)}")
    # A finished blue/green or canary release has retired the old pods: undoing it is a release of the old
    # images, which the fleet does not know; a rolling update keeps the old revision to undo to.
    if rollback_wave_on_halt is True and strategy != "rolling_update":
        raise ValueError(
            f"fleet_rollback_wave_on_halt: rolls back rolling_update releases only, not {strategy}; "
            "release the old images on those clusters instead"
        )
    return f"nodowntime.k8s.{strategy}"


def _size(value, total):
    # ansible.utils.helpers.pct_to_int, which module_utils may not import: "10%" of 7 is 1, never 0.
    if isinstance(value, str) and value.endswith("%"):
        return int(int(value[:-1]) / 100.0 * total) or 1
    return int(value)


def waves(serial, hosts):
    """The hosts in waves, as ansible-core batches a play's serial list: the last size repeats."""
    if not isinstance(serial, list):
        serial = [serial]
    for value in serial:
        if not isinstance(value, int | str) or isinstance(value, bool) or not str(value).rstrip("%").isdigit():
            raise ValueError(f"fleet_waves: {value!r} is neither a number of clusters nor a percentage such as '10%'")
    left, batched = list(hosts), []
    for index in range(len(left)):
        if not left:
            break
        size = _size(serial[min(index, len(serial) - 1)] if serial else 0, len(hosts))
        size = size if size > 0 else len(left)
        batched.append(left[:size])
        left = left[size:]
    return batched


def _seconds(started, finished):
    if not started or not finished:
        return None
    return round((_parse(finished) - _parse(started)).total_seconds(), 1)


def _parse(at):
    return datetime.fromisoformat(at.removesuffix("Z"))


def row(cluster, report, failure, started, finished, requests=None):
    """One cluster's row, from its release report and, if the release failed, the failed task's message."""
    report = report or {}
    outcome = report.get("outcome") or "failed"
    if failure and outcome in (*SUCCEEDED, "running"):
        outcome = "failed"
    cause = report.get("rollback_cause") or (failure or None)
    if outcome == "failed" and (cause or "").startswith(UNREACHABLE_CAUSE):
        outcome = UNREACHABLE
    return {
        "cluster": cluster,
        "wave": None,  # fleet() numbers the waves
        # This run changed the cluster and its release finished: what rolling back the wave undoes.
        "released": report.get("outcome") == "complete",
        "fleet_rollback": None,  # rolled_back() fills it
        "strategy": report.get("strategy"),
        "outcome": outcome,
        "ok": outcome in SUCCEEDED and not failure,
        "from_version": report.get("from_version"),
        "to_version": report.get("to_version"),
        "started": started,
        "finished": finished,
        "duration_seconds": _seconds(started, finished),
        "requests": requests or None,
        "rollback_cause": None if outcome in SUCCEEDED else cause,
    }


def max_fail(percentage):
    """fleet_max_fail_percentage as a number from 0 to 100."""
    try:
        value = float(percentage)
    except (TypeError, ValueError):
        value = -1.0
    if isinstance(percentage, bool) or not 0 <= value <= 100:
        raise ValueError(f"fleet_max_fail_percentage: {percentage!r} is not a percentage from 0 to 100")
    return value


def fleet(planned, rows, strategy, at=None, max_fail_percentage=0, rollback_wave_on_halt=False):
    """Every cluster's row, in wave order: a cluster with no row is unreachable if a later or its own
    wave ran, else not_run.  Counts by outcome, and the clusters that failed, by name.

    halted: waves remain and the last wave that ran had more failed clusters than max_fail_percentage of
    its size, or only failed ones: ansible-core's own rules; the playbook ends there.
    roll_back: with rollback_wave_on_halt, when halted, the clusters of that wave this run released
    (their own release finished, whatever came after) and the fleet has not rolled back yet, as
    {cluster: reason}; a cluster whose release rolled itself back is not among them."""
    if not isinstance(rollback_wave_on_halt, bool):
        raise ValueError(  # noqa: TRY004 - the filter turns ValueError into a task failure naming the variable
            f"fleet_rollback_wave_on_halt: {rollback_wave_on_halt!r} is not true or false"
        )
    recorded = {r["cluster"]: r for r in rows}
    last = max((number for number, hosts in enumerate(planned, start=1) if set(hosts) & set(recorded)), default=0)
    listed = []
    for number, hosts in enumerate(planned, start=1):
        for host in hosts:
            if host in recorded:
                listed.append(dict(recorded[host], wave=number))
                continue
            outcome = UNREACHABLE if number <= last else NOT_RUN
            cause = "recorded nothing: the host was unreachable" if outcome == UNREACHABLE else None
            listed.append(dict(row(host, {"outcome": outcome}, None, None, None), wave=number, rollback_cause=cause))
    counts = {}
    for r in listed:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    failed = [r["cluster"] for r in listed if not r["ok"] and r["outcome"] != NOT_RUN]
    wave = planned[last - 1] if last else []
    share = len([c for c in failed if c in wave]) / len(wave) if wave else 0.0
    halted = (share > max_fail(max_fail_percentage) / 100.0 or share == 1.0) and last < len(planned)
    reason = f"the fleet halted after wave {last}, where {', '.join(c for c in failed if c in wave)} failed"
    # .get: a row without these fields (written by an older collection, or by hand) was not released by it.
    done = {r["cluster"]: r.get("fleet_rollback") for r in listed}
    roll_back = {
        r["cluster"]: reason
        for r in listed
        if rollback_wave_on_halt and halted and r["wave"] == last and r.get("released") and not done[r["cluster"]]
    }
    return {
        "strategy": strategy,
        "started": min((r["started"] for r in rows if r["started"]), default=None),
        "written": at,
        "waves": len(planned),
        "waves_run": last,
        # A wave all failed ends the playbook in ansible-core whatever max_fail_percentage says.
        "halted": halted,
        "outcome": "failed" if failed else "complete" if last == len(planned) else "running",
        "counts": counts,
        "failed_clusters": failed,
        "roll_back": roll_back,
        "rolled_back_by_fleet": [cluster for cluster, rollback in done.items() if rollback and not rollback["error"]],
        "clusters": listed,
    }


def rolled_back(cluster_row, reason, error=""):
    """The row once the fleet rolled the cluster back for reason; or, with error, failed to.  A cluster
    whose own release succeeded stays out of failed_clusters when the rollback works (ok is its release's)."""
    if error:
        cause = f"the fleet's rollback ({reason}) failed: {error}"
        return dict(
            cluster_row,
            outcome="failed",
            ok=False,
            rollback_cause=cause,
            fleet_rollback={"reason": reason, "error": error},
        )
    return dict(
        cluster_row,
        outcome="rolled_back",
        rollback_cause=cluster_row["rollback_cause"] or reason,
        fleet_rollback={"reason": reason, "error": None},
    )


def _cell(value):
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def _requests(requests):
    if not requests:
        return ""
    return f"{requests.get('failed', 0)} failed of {requests.get('total', 0)}"


def markdown(report):
    lines = [
        f"# Fleet release: {report['outcome']}",
        "",
        f"Strategy {report['strategy']}; waves run {report['waves_run']} of {report['waves']}"
        + ("; halted" if report["halted"] else "")
        + (f"; failed: {', '.join(report['failed_clusters'])}" if report["failed_clusters"] else "")
        + (
            f"; rolled back by the fleet: {', '.join(report['rolled_back_by_fleet'])}"
            if report["rolled_back_by_fleet"]
            else ""
        )
        + ".",
        "",
        "| cluster | wave | outcome | from | to | seconds | requests | rollback reason |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["clusters"]:
        cells = (r["cluster"], r["wave"], r["outcome"], r["from_version"], r["to_version"], r["duration_seconds"])
        lines.append(
            "| "
            + " | ".join(_cell(c) for c in cells)
            + f" | {_requests(r['requests'])} | {_cell(r['rollback_cause'])} |"
        )
    return "\n".join(lines) + "\n"


def svg(report, width=720, row_height=22):
    """Clusters down, time across from the first start to the last finish; a cluster not run is a grey label."""
    rows = report["clusters"]
    times = [_parse(at) for r in rows for at in (r["started"], r["finished"]) if at]
    start = min(times, default=None)
    span = max(((max(times) - start).total_seconds() if times else 0), 1.0)
    left, top = 160, 30
    plot = width - left - 20
    height = top + row_height * len(rows) + 30
    svg_tag = f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
    title = f"Fleet release ({escape(str(report['strategy']))}): {escape(report['outcome'])}, {span:.0f} s"
    out = [f'{svg_tag} font-family="sans-serif" font-size="12">', f'<text x="10" y="18">{title}</text>']
    for index, r in enumerate(rows):
        y = top + index * row_height
        colour = COLOURS.get(r["outcome"], OTHER_COLOUR)
        label = f"{r['cluster']} (wave {r['wave']})"
        out.append(f'<text x="10" y="{y + row_height - 8}">{escape(label)}</text>')
        if r["started"] and r["finished"]:
            x = left + (_parse(r["started"]) - start).total_seconds() / span * plot
            w = max((_parse(r["finished"]) - _parse(r["started"])).total_seconds() / span * plot, 2)
        else:
            x, w = left, plot
        out.append(
            f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_height - 6}" fill="{colour}">'
            f"<title>{escape(r['cluster'])}: {escape(r['outcome'])}</title></rect>"
        )
        out.append(f'<text x="{x + 4:.1f}" y="{y + row_height - 8}" fill="#fff">{escape(r["outcome"])}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
