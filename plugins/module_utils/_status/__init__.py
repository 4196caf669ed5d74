# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure: verdicts on what the cluster reports (rollout status, pod failures, selector checks, node capacity)."""
