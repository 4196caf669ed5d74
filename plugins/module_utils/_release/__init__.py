# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure: a release: the engine that decides its next step, its report, and its bookkeeping (lock decisions, progress record, approval, timeline)."""
