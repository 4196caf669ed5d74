package demoapp

import (
	"net/http"
	"strings"
	"time"
)

// reply is one complete answer; the server adds the status line and framing headers.
type reply struct {
	status      int
	contentType string
	body        []byte
}

func text(status int, s string) reply { return reply{status, "text/plain", []byte(s + "\n")} }

func jsonReply(status int, fields ...field) reply {
	return reply{status, "application/json", pyDumps(fields...)}
}

// routes answers one request, as the Python Handler.do_GET did.
type routes struct {
	version, pod string
	errors       *ErrorSchedule
	health       *health
	now          func() time.Time
}

func (rt *routes) answer(req *http.Request) reply {
	if req.Method != http.MethodGet {
		// BaseHTTPRequestHandler has only do_GET: anything else is 501.
		return text(http.StatusNotImplemented, "unsupported method")
	}
	// The raw target up to "?", as Python's self.path: an absolute-form URL is a 404 there too.
	path, _, _ := strings.Cut(req.RequestURI, "?")
	switch path {
	case "/":
		if rt.errors.NextFails() {
			return jsonReply(http.StatusInternalServerError, field{"error", "injected"}, field{"version", rt.version}, field{"pod", rt.pod})
		}
		return jsonReply(http.StatusOK, field{"version", rt.version}, field{"pod", rt.pod})
	case "/healthz", "/health":
		if rt.health.alive(rt.now()) {
			return text(http.StatusOK, "ok")
		}
		return text(http.StatusInternalServerError, "liveness failing")
	case "/readyz":
		if rt.health.ready(rt.now()) {
			return text(http.StatusOK, "ok")
		}
		return text(http.StatusServiceUnavailable, "not ready")
	case "/fail-readiness":
		// Only the real node's tests need this: an exec probe on a host file can't reach into a container.
		rt.health.failedOnRequest.Store(true)
		return text(http.StatusOK, "readiness failing from now on")
	case "/metrics":
		return jsonReply(http.StatusOK, rt.errors.Metrics()...)
	}
	return text(http.StatusNotFound, "not found")
}
