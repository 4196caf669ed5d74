package demoapp

import (
	"reflect"
	"testing"
)

// The expected rows were printed by the Python app's own formula, so a port that drifts
// from its float arithmetic (0.07 is the telling one) fails here.
func TestErrorScheduleMatchesPython(t *testing.T) {
	cases := []struct {
		name    string
		rate    float64
		first40 []int // request numbers answered 500 among the first 40
		per1000 int
	}{
		{"zero never fails", 0, nil, 0},
		{"one always fails", 1, seq(1, 40), 1000},
		{"0.3 fails 4,7,10 then every 3-4", 0.3, []int{4, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40}, 300},
		{"0.25 fails every 4th", 0.25, []int{4, 8, 12, 16, 20, 24, 28, 32, 36, 40}, 250},
		{"one third", 1.0 / 3, []int{3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39}, 333},
		{"0.07 rounds like Python: 15 and 29, not 14 and 28", 0.07, []int{15, 29}, 70},
		{"0.999 spares only the first", 0.999, seq(2, 40), 999},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewErrorSchedule(tc.rate)
			var failed []int
			total := 0
			for n := 1; n <= 1000; n++ {
				if s.NextFails() {
					total++
					if n <= 40 {
						failed = append(failed, n)
					}
				}
			}
			if !reflect.DeepEqual(failed, tc.first40) {
				t.Errorf("failed requests %v, want %v", failed, tc.first40)
			}
			if total != tc.per1000 {
				t.Errorf("%d errors in 1000, want %d", total, tc.per1000)
			}
		})
	}
}

func TestMetricsBody(t *testing.T) {
	cases := []struct {
		name     string
		rate     float64
		requests int
		want     string
	}{
		{"before any request the ratio is 0.0", 0.3, 0, `{"requests": 0, "errors": 0, "error_rate": 0.0}`},
		{"exact ratio", 0.3, 100, `{"requests": 100, "errors": 30, "error_rate": 0.3}`},
		{"repeating ratio in full", 1.0 / 3, 3, `{"requests": 3, "errors": 1, "error_rate": 0.3333333333333333}`},
		{"all errors", 1, 2, `{"requests": 2, "errors": 2, "error_rate": 1.0}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewErrorSchedule(tc.rate)
			for range tc.requests {
				s.NextFails()
			}
			if got := string(pyDumps(s.Metrics()...)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func seq(from, to int) []int {
	var out []int
	for n := from; n <= to; n++ {
		out = append(out, n)
	}
	return out
}
