# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replica math for a replica-ratio canary: two Deployments behind one Service.

Without a mesh, a Service spreads requests over its ready pods, so the canary's
share of traffic is its share of the pods.  ``keep_total`` follows Argo Rollouts'
basic canary (``approximateWeightedCanaryStableReplicaCounts`` with maxSurge 0):

* round to nearest, halves up: 10 pods at weight 14 -> canary 1, at 15 -> 2;
* while 0 < weight < 100 each side keeps at least one pod, so a step never
  silently skips the canary or drops stable;
* a total of 1 cannot give both sides a pod, so the one pod goes to the side the
  weight rounds to (weight 49 -> stable, 50 -> canary), as Argo does;
* weight 0 -> canary 0; weight 100 -> canary gets the total and stable 0.

Argo differs where weight% of the total is exactly total - 1/2 (2 pods at 75,
10 at 95): its search finds no candidate and returns canary 0; here the rules
above give total - 1.

``surge`` mode never shrinks stable: it stays at the total and the canary gets
weight% of the total on top (at least one pod while weight > 0), the shape of
Argo's traffic-routed canary; its real share is then canary / (stable + canary).
Argo rounds that canary up (ceil); here it rounds to nearest like keep_total,
because here the pods are the traffic split, not capacity behind a router: a pod
rounded up is more users on the canary than the weight asked for.

``capacity`` mode is for a canary behind a traffic router (a Gateway API route sets the
split, exactly): the pods are capacity, not traffic.  Stable stays at the total and the
canary gets weight% of it rounded up, so it can carry the share the route sends it, and at
least ``floor`` pods (``min_replicas``, at least one) while weight > 0: Argo Rollouts' shape
for a traffic-routed canary.
"""

KEEP_TOTAL = "keep_total"
SURGE = "surge"
CAPACITY = "capacity"
MODES = (KEEP_TOTAL, SURGE, CAPACITY)

# The total is pinned on the canary Deployment at the first step, so later steps
# split the same number of pods even though stable's replicas change under them.
TOTAL_ANNOTATION = "nodowntime.k8s/canary-total-replicas"


class CanaryError(ValueError):
    """Input the replica math cannot honour; the message names the field and the rule."""


def round_half_up(numerator, denominator):
    """Integer rounding to nearest with halves up, exact (no floats)."""
    return (2 * numerator + denominator) // (2 * denominator)


def check_step(weight, mode):
    """CanaryError unless weight and mode are usable; called before anything is read or changed."""
    if mode not in MODES:
        raise CanaryError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 100:
        raise CanaryError(f"weight must be an integer from 0 to 100, got {weight!r}")


def split(total, weight, mode=KEEP_TOTAL, floor=1):
    """(canary, stable) replicas for weight percent of total pods; floor: capacity mode's least canary."""
    check_step(weight, mode)
    if not isinstance(total, int) or total < 1:
        raise CanaryError(f"total_replicas must be an integer >= 1, got {total!r}")
    if mode == CAPACITY:
        return (max(1, floor, -(-total * weight // 100)) if weight else 0), total
    canary = round_half_up(total * weight, 100)
    if mode == SURGE:
        if weight > 0:
            canary = max(1, canary)
        return canary, total
    if 0 < weight < 100 and total >= 2:
        canary = min(max(1, canary), total - 1)
    return canary, total - canary


def actual_weight(canary, stable):
    """The canary's share of the pods behind the Service, in percent (2 decimals)."""
    pods = canary + stable
    return round(100.0 * canary / pods, 2) if pods else 0.0


def resolve_total(requested, annotation, stable_replicas, canary_replicas):
    """(total, source): the explicit option, else the pinned annotation, else the pods running now.

    source is "option", "annotation" or "current"; an unreadable annotation is refused
    rather than guessed, because a wrong total moves real capacity.
    """
    if requested is not None:
        if requested < 1:
            raise CanaryError(f"total_replicas must be >= 1, got {requested}")
        return requested, "option"
    if annotation is not None:
        try:
            total = int(annotation)
        except ValueError:
            total = 0
        if total < 1:
            raise CanaryError(
                f"annotation {TOTAL_ANNOTATION} on the canary must be an integer >= 1, "
                f"got {annotation!r}; set total_replicas to repair it"
            )
        return total, "annotation"
    total = stable_replicas + canary_replicas
    if total < 1:
        raise CanaryError("total_replicas is not set and stable and canary both have 0 replicas; set total_replicas")
    return total, "current"


def scale_order(current, target):
    """[(role, replicas)] to apply in order: growing sides first, shrinking sides second.

    current and target are {"canary": n, "stable": n}.  Growing first means ready
    capacity never drops below what is serving now; unchanged sides are left out.
    """
    ups = [(role, target[role]) for role in ("canary", "stable") if target[role] > current[role]]
    downs = [(role, target[role]) for role in ("canary", "stable") if target[role] < current[role]]
    return ups + downs
