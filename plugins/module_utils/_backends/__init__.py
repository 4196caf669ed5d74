# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API I/O: one backend per module, the orchestration over _k8s its main() calls; tested with a fake client."""
