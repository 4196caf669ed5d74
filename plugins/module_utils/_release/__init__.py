# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure: a release's engine (its next step), its report and bookkeeping (lock, progress, approval, timeline)."""
