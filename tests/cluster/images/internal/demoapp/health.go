package demoapp

import (
	"math"
	"sync/atomic"
	"time"
)

// health is readiness and liveness as functions of the time since listening, so tests
// ask about any moment without sleeping.
type health struct {
	since             time.Time // the moment the listener opened
	readyAfter        time.Duration
	failReadiness     bool
	failLivenessAfter *time.Duration
	draining          atomic.Bool // set on SIGTERM: a draining app is not ready
	failedOnRequest   atomic.Bool // set by GET /fail-readiness: a running pod that turns unready
}

func newHealth(c Config, since time.Time) *health {
	h := &health{since: since, readyAfter: duration(c.ReadyAfterSeconds), failReadiness: c.FailReadiness}
	if c.FailLivenessAfterSeconds != nil {
		d := duration(*c.FailLivenessAfterSeconds)
		h.failLivenessAfter = &d
	}
	return h
}

func (h *health) ready(now time.Time) bool {
	return !h.failReadiness && !h.draining.Load() && !h.failedOnRequest.Load() && now.Sub(h.since) >= h.readyAfter
}

func (h *health) alive(now time.Time) bool {
	return h.failLivenessAfter == nil || now.Sub(h.since) < *h.failLivenessAfter
}

// duration turns knob seconds into a Duration, saturating: a float too large for int64
// nanoseconds would otherwise convert to a negative number and fire at once.
func duration(seconds float64) time.Duration {
	ns := seconds * float64(time.Second)
	switch {
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(ns)
}
