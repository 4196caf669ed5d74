# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API I/O: the Kubernetes client, its errors and auth, the waiter, rollout reads and writes, host processes."""
