package demoapp

import (
	"math"
	"sync"
)

// ErrorSchedule answers request n with an error iff floor(n*rate) grows at n: exactly rate
// of every run, spread evenly, and the same requests fail as in the Python app (the same
// float64 arithmetic), so a test's expected error count does not depend on the port.
type ErrorSchedule struct {
	rate     float64
	mu       sync.Mutex
	requests int
	errors   int
}

func NewErrorSchedule(rate float64) *ErrorSchedule { return &ErrorSchedule{rate: rate} }

// NextFails counts one more GET / and says whether it is answered 500.
func (s *ErrorSchedule) NextFails() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	n := float64(s.requests)
	fails := math.Floor(n*s.rate) > math.Floor((n-1)*s.rate)
	if fails {
		s.errors++
	}
	return fails
}

// Metrics is /metrics' body: requests, errors and their ratio (0.0 before any request).
func (s *ErrorSchedule) Metrics() []field {
	s.mu.Lock()
	defer s.mu.Unlock()
	ratio := 0.0
	if s.requests > 0 {
		ratio = float64(s.errors) / float64(s.requests)
	}
	return []field{{"requests", s.requests}, {"errors", s.errors}, {"error_rate", ratio}}
}
