"""results.json -> the Markdown tables that `make bench` prints and writes to build/bench/results.md."""


def _f(fig, digits=2):
    """'median (min-max)' of a stats.summary, or '-'."""
    if not fig or fig.get("median") is None:
        return "-"
    unit = "" if fig.get("unit") in ("requests",) else f" {fig.get('unit', '')}".rstrip()
    fmt = f"{{:.{digits}f}}"
    return f"{fmt.format(fig['median'])}{unit} ({fmt.format(fig['min'])}..{fmt.format(fig['max'])}, n={fig['n']})"


def _x(value):
    return "-" if value is None else f"{value:g}x"


def _goal(goal, key="met"):
    """None: nothing was measured to judge it by."""
    value = goal.get(key)
    return "not measured" if value is None else "met" if value else "NOT met"


def markdown(results):
    meta = results["meta"]
    lines = [
        f"# nodowntime.k8s benchmarks ({meta['profile']})",
        "",
        f"{meta['started']} · {meta['duration_s']:.0f} s · {meta['cpus']} CPUs · load average "
        f"{meta['load_start'][0]:.1f} at start, {meta['load_end'][0]:.1f} at end"
        + (
            f" ({meta['load_average']['min']}..{meta['load_average']['max']} over the sections)"
            if meta.get("load_average")
            else ""
        )
        + (" · **machine shared with other work: figures are noisy**" if meta.get("shared") else ""),
        *(
            ["", "**Quick profile: every section once, small sizes: a first look, not the figures of `make bench`.**"]
            if meta["profile"] == "quick"
            else []
        ),
        (
            f"ansible-core {meta['versions']['ansible-core']} · "
            f"kubernetes.core {meta['versions']['kubernetes.core']} · "
            f"Kubernetes {meta['versions']['kubernetes']} · cluster settings {meta['cluster_settings']}"
        ),
        "",
        "Nodes: "
        + ", ".join(
            f"{name} on clusters of its own" if node == "own" else f"{name} on the {node} node"
            for name, node in meta.get("nodes", {}).items()
        )
        + " (the hollow node is kubemark's: the kubelet's code over a fake runtime, not a real node).",
        "",
        "Each figure: median (min..max, n runs). Ratios are of medians from this run.",
        "",
    ]
    for key, title, fn in SECTIONS:
        section = results.get(key)
        if section is None:
            continue
        load, took = section.get("load_average"), section.get("duration_s")
        notes = ([f"{took:.0f} s"] if took is not None else []) + (
            [f"load average {load[0]} -> {load[1]}"] if load else []
        )
        lines += [f"## {title}" + (f" ({'; '.join(notes)})" if notes else ""), ""]
        if "error" in section:
            lines += [f"**failed:** `{section['error']}`", ""]
            continue
        lines += [*fn(section), ""]
    return "\n".join(lines)


def _latency(s):
    t = s["tools"]
    rows = [
        "| tool | returns after the rollout is complete | criterion | returned early | vs ours |",
        "|---|---|---|---|---|",
    ]
    for tool, fig in t.items():
        rows.append(
            f"| {tool} | {_f(fig['latency'], 3)} | {s['criterion'][tool]} | {fig['returned_early']} | "
            f"{'1x' if tool == 'ours' else _x(s['ratios'].get(f'{tool}/ours'))} |"
        )
    ours = t["ours"]
    rows += [
        "",
        (
            f"Goal ours ≤ 0.2 s median: **{_goal(s['goal'])}**. Ours, split: module's verdict after settled "
            f"{_f(ours.get('module_verdict'), 3)}; ansible CLI exit after the verdict "
            f"{_f(ours.get('cli_exit_after_verdict'), 3)}. Old pods gone after complete "
            f"(settled - complete): {_f(ours.get('settle_gap'), 3)}. Workload: {s['workload']}."
        ),
    ]
    return rows


def _apiload(s):
    rows = [
        "| tool | requests for one rollout (its own identity, exact) | by verb and resource (median) | vs ours |",
        "|---|---|---|---|",
    ]
    for tool, fig in s["tool_requests"].items():
        by = ", ".join(f"{label} {f['median']:g}" for label, f in s["by_request"][tool].items())
        rows.append(
            f"| {tool} | {_f(fig, 1)} | {by} | {'1x' if tool == 'ours' else _x(s['ratios'].get(f'{tool}/ours'))} |"
        )
    w = s["workload"]
    rows += [
        "",
        (
            f"Goal ours ≤ {s['goal']['ours_max_requests']} requests: **{_goal(s['goal'])}**. Rollouts of "
            f"{_f(s['rollout_seconds']['ours'], 1)} (ours), {w['replicas']} replicas, minReadySeconds "
            f"{w['min_ready_seconds']}; {w['side_by_side']} rollouts side by side, each tool as an identity of "
            "its own counted by FlowSchema (every request, watches included, nothing of other clients)."
        ),
    ]
    return rows


def _overhead(s):
    return [
        "| wall | controller-inherent | overhead | before the change | after settled |",
        "|---|---|---|---|---|",
        (
            f"| {_f(s.get('wall'))} | {_f(s.get('inherent'))} | {_f(s.get('overhead'))} | {_f(s.get('before'))} | "
            f"{_f(s.get('after'))} |"
        ),
        "",
        (
            f"Goal overhead ≤ {s['goal']['overhead_median_max_s']} s median: **{_goal(s['goal'])}**. "
            f"{s['workload']['replicas']} replicas through "
            f"{s['workload']['playbook']}."
        ),
    ]


def _scale(s):
    rows = [
        (
            "| pods | rollout wall | inherent | latency | module peak RSS | module CPU | blue/green switch "
            "(module / observer) | canary step (module) | canary RSS | throttled waits ≥1 s (cm/sched) |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for size, z in s["sizes"].items():
        if "error" in z:
            rows.append(f"| {size} | failed: `{z['error'][:200]}` |")
            continue
        notes += [f"{size} pods: {note}." for note in z.get("notes", [])]
        r, b, c, th = z["rollout"], z["bluegreen"], z["canary"], z.get("throttling", {})
        rows.append(
            f"| {size} | {_f(r.get('wall'), 1)} | {_f(r.get('inherent'), 1)} | {_f(r.get('latency'))} | "
            f"{_f(r.get('module_rss_mb'), 0)} | {_f(r.get('module_cpu'))} | {_f(b.get('switch_seconds'), 3)} / "
            f"{_f(b.get('observer_switch_seconds'), 3)} | {_f(c.get('module_wall'), 1)} | "
            f"{_f(c.get('module_rss_mb'), 0)} | "
            f"{th.get('kube-controller-manager', {}).get('waits_over_1s', '-')}/"
            f"{th.get('kube-scheduler', {}).get('waits_over_1s', '-')} |"
        )
    g = s["goal"]
    rows += [
        "",
        (
            f"Goals: module RSS ≤ {g['module_rss_max_mb']} MB (every size): **{_goal(g)}**; "
            f"blue/green switch ≤ 2 s at the largest size it ran at ({g.get('bluegreen_largest_size') or '-'} pods): "
            f"**{_goal(g, 'bluegreen_met_at_largest')}**. Settings: {s['settings']}."
        ),
        *(["", " ".join(notes)] if notes else []),
    ]
    return rows


def _rollback(s):
    rows = [
        (
            "| strategy | decision → old version serves all traffic | tool's first change in the API | "
            "endpoints only old | tool returned | failed requests | vs blue/green |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    for name, z in s["strategies"].items():
        ratio = "1x" if name == "blue/green" else _x(s["ratios"].get(f"{name}/blue-green"))
        rows.append(
            f"| {name} | {_f(z['to_all_old'])} | {_f(z.get('first_change'))} | {_f(z.get('endpoints_old'))} | "
            f"{_f(z['tool_wall'])} | {z['failed_requests']} | {ratio} |"
        )
    rows += ["", f"Workload: {s['workload']}."]
    return rows


def _failure(s):
    rows = [
        (
            "| case | failure visible → first corrective change | of which the task's decision | "
            "→ old version serves all traffic | task | failed requests | outcome |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    notes = []
    for name, z in s["cases"].items():
        if "green_answers" in z:
            notes.append(
                f"{name}: the switch was {'refused' if z['refused'] else 'NOT refused'} in {z['n']} of {z['n']} runs; "
                f"green answered {z['green_answers']} requests, {z['failed_requests']} failed."
            )
            continue
        rows.append(
            f"| {name} | {_f(z['first_change'], 3)} | {_f(z.get('task_reacts'), 3)} | {_f(z['all_old'], 3)} | "
            f"{_f(z['task_wall'])} | "
            f"{z['failed_requests']} | {', '.join(z['outcomes'])} |"
        )
    return [
        *rows,
        "",
        (
            f"Goal first corrective change ≤ {s['goal_first_change_s']} s after the failure is visible: "
            f"**{_goal(s, 'goal_met')}**. {' '.join(notes)} Workload: {s['workload']}."
        ),
    ]


def _podstart(s):
    steps = s["steps"]
    row = " | ".join(
        _f(steps[key])
        for key in ("created_to_ready", "created_to_scheduled", "scheduled_to_started", "started_to_ready")
    )
    return [
        "| created → ready | created → scheduled | scheduled → started | started → ready |",
        "|---|---|---|---|",
        f"| {row} |",
        "",
        f"Per pod ({s['pods']} pods), times the observer first saw each step. Workload: {s['workload']}.",
    ]


def _fleet(s):
    rows = [
        "| clusters | wall | CPU | peak memory | wall per cluster | CPU per cluster | memory per cluster |",
        "|---|---|---|---|---|---|---|",
    ]
    for size in s["sizes"].values():
        per = size["per_cluster"]
        figures = (size["wall_s"], size["cpu_s"], size["peak_pss_mb"], per["wall_s"], per["cpu_s"], per["peak_pss_mb"])
        rows.append(f"| {size['clusters']} | " + " | ".join(_f(fig, 1) for fig in figures) + " |")
    return [
        *rows,
        "",
        (
            "One fleet run (rolling_update, one wave of every cluster, forks = clusters) of a 0-replica Deployment "
            "on control-plane-only clusters (no node); CPU and peak memory (PSS) of ansible-playbook with its "
            f"forks and modules. One cluster's control plane holds {_f(s['cluster']['pss_mb'], 0)} of memory."
        ),
    ]


SECTIONS = (
    ("latency", "1. Detection latency", _latency),
    ("apiload", "2. API load, one ~60 s rollout", _apiload),
    ("overhead", "3. Overhead of the rolling_update role (hollow node)", _overhead),
    ("overhead_real", "3b. Overhead of the rolling_update role on the real node", _overhead),
    ("scale", "4. Scale", _scale),
    ("rollback", "5. Rollback speed", _rollback),
    ("failure", "5b. Automatic failure path on the real node", _failure),
    ("podstart", "6. Pod start on the real node", _podstart),
    ("fleet", "7. Fleet cost per cluster", _fleet),
)
