# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Analysis gates: metric scoring and JMESPath conditions (pure), and the web request that fetches the metrics (I/O)."""
