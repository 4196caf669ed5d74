# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failure a backend raises: the message for fail_json and the result to return with it."""

from __future__ import annotations


class TaskFailed(Exception):
    def __init__(self, message, result):
        super().__init__(message)
        self.message = message
        self.result = result
