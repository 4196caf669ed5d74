# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure: what to send (rolling update, canary replicas, probe patches, revisions, derived Deployments)."""
