package demoapp

import (
	"math"
	"testing"
	"time"
)

func TestHealth(t *testing.T) {
	type at struct {
		after        float64 // seconds since listening
		ready, alive bool
	}
	cases := []struct {
		name     string
		cfg      Config
		draining bool
		checks   []at
	}{
		{"ready at once, alive forever", Config{}, false, []at{{0, true, true}, {1e6, true, true}}},
		{"ready after 1s", Config{ReadyAfterSeconds: 1}, false, []at{{0.999, false, true}, {1, true, true}}},
		{"negative ready-after is ready at once", Config{ReadyAfterSeconds: -5}, false, []at{{0, true, true}}},
		{"FAIL_READINESS is never ready", Config{FailReadiness: true}, false, []at{{0, false, true}, {1e6, false, true}}},
		{"draining is not ready but alive", Config{}, true, []at{{5, false, true}}},
		{"liveness fails from 0.5s", Config{FailLivenessAfterSeconds: f64(0.5)}, false, []at{{0.499, true, true}, {0.5, true, false}}},
		{"liveness after 0 fails at once", Config{FailLivenessAfterSeconds: f64(0)}, false, []at{{0, true, false}}},
		{"a huge ready-after saturates instead of wrapping", Config{ReadyAfterSeconds: 1e300}, false, []at{{1e6, false, true}}},
		{"infinite liveness never fails", Config{FailLivenessAfterSeconds: f64(math.Inf(1))}, false, []at{{1e6, true, true}}},
	}
	since := time.Now()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHealth(tc.cfg, since)
			h.draining.Store(tc.draining)
			for _, c := range tc.checks {
				now := since.Add(duration(c.after))
				if got := h.ready(now); got != c.ready {
					t.Errorf("ready at %gs = %v, want %v", c.after, got, c.ready)
				}
				if got := h.alive(now); got != c.alive {
					t.Errorf("alive at %gs = %v, want %v", c.after, got, c.alive)
				}
			}
		})
	}
}
