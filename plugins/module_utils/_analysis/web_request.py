# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One HTTP request for an analysis measurement: the web provider's transport, nothing else."""

import json
from urllib.parse import urlsplit

from ansible.module_utils.urls import open_url

METHODS = ("GET", "POST", "PUT")


class RequestError(ValueError):
    """A request the options describe wrongly; refused before anything is sent."""


class WebRequest:
    def __init__(self, url, method="GET", headers=None, body=None, timeout=10, validate_certs=True):
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise RequestError(f"url must be an absolute http:// or https:// URL, got {url!r}")
        if method not in METHODS:
            raise RequestError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if body is not None and method == "GET":
            # As Argo's web provider: a GET with a body is almost always a mistake.
            raise RequestError("body can only be sent with method POST or PUT")
        if not timeout or timeout <= 0:
            raise RequestError(f"timeout must be > 0 seconds, got {timeout!r}")
        self.headers = {str(k): str(v) for k, v in (headers or {}).items()}
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            self.headers.setdefault("Content-Type", "application/json")
        self.url, self.method, self.body = url, method, body
        self.timeout, self.validate_certs = timeout, validate_certs

    def __call__(self):
        """(status, text): status None when there was no HTTP answer, and text says why."""
        try:
            response = open_url(
                self.url,
                data=self.body,
                headers=self.headers,
                method=self.method,
                timeout=self.timeout,
                validate_certs=self.validate_certs,
            )
            return response.status, response.read().decode("utf-8", "replace")
        except Exception as e:  # noqa: BLE001 - every failure to get an answer is one measurement error
            status = getattr(e, "code", None)  # HTTPError: a real answer with a non-2xx status
            if status is not None:
                return status, _read(e)
            return None, f"request to {self.url} failed: {getattr(e, 'reason', None) or e}"


def _read(error):
    try:
        return error.read().decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - the body of an error answer is only informative
        return ""
