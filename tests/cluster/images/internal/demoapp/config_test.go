package demoapp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func f64(v float64) *float64 { return &v }

func TestLoadConfig(t *testing.T) {
	defaults := Config{Host: "0.0.0.0", Port: 8080, Version: "dev", Pod: "node-host"}
	with := func(change func(*Config)) Config { c := defaults; change(&c); return c }
	cases := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{"nothing set", nil, defaults, ""},
		{"empty VERSION and POD_NAME fall back", map[string]string{"VERSION": "", "POD_NAME": ""}, defaults, ""},
		{"empty HOST means every interface", map[string]string{"HOST": ""}, with(func(c *Config) { c.Host = "" }), ""},
		{"identity", map[string]string{"HOST": "127.0.0.1", "PORT": " 0 ", "VERSION": "7", "POD_NAME": "web-abc"},
			with(func(c *Config) { c.Host, c.Port, c.Version, c.Pod = "127.0.0.1", 0, "7", "web-abc" }), ""},
		{"seconds knobs", map[string]string{
			"STARTUP_SECONDS": "1", "READY_AFTER_SECONDS": "0.5", "FAIL_LIVENESS_AFTER_SECONDS": "0",
			"CRASH_AFTER_SECONDS": "2.5", "SHUTDOWN_DELAY_SECONDS": "0.6", "ERROR_RATE": "0.3"},
			with(func(c *Config) {
				c.StartupSeconds, c.ReadyAfterSeconds, c.ShutdownDelaySeconds, c.ErrorRate = 1, 0.5, 0.6, 0.3
				c.FailLivenessAfterSeconds, c.CrashAfterSeconds = f64(0), f64(2.5)
			}), ""},
		{"empty seconds are unset", map[string]string{"FAIL_LIVENESS_AFTER_SECONDS": "", "CRASH_AFTER_SECONDS": " "}, defaults, ""},
		{"FAIL_READINESS yes", map[string]string{"FAIL_READINESS": "1"}, with(func(c *Config) { c.FailReadiness = true }), ""},
		{"FAIL_READINESS any word", map[string]string{"FAIL_READINESS": "never"}, with(func(c *Config) { c.FailReadiness = true }), ""},
		{"FAIL_READINESS ' False '", map[string]string{"FAIL_READINESS": " False "}, defaults, ""},
		{"FAIL_READINESS no", map[string]string{"FAIL_READINESS": "NO"}, defaults, ""},
		{"FAIL_READINESS 0", map[string]string{"FAIL_READINESS": "0"}, defaults, ""},
		{"bad seconds", map[string]string{"READY_AFTER_SECONDS": "soon"}, Config{}, "READY_AFTER_SECONDS"},
		{"NaN seconds", map[string]string{"CRASH_AFTER_SECONDS": "nan"}, Config{}, "CRASH_AFTER_SECONDS"},
		{"bad shutdown delay fails at start", map[string]string{"SHUTDOWN_DELAY_SECONDS": "1s"}, Config{}, "SHUTDOWN_DELAY_SECONDS"},
		{"error rate above 1", map[string]string{"ERROR_RATE": "1.5"}, Config{}, "within [0, 1]"},
		{"error rate below 0", map[string]string{"ERROR_RATE": "-0.1"}, Config{}, "within [0, 1]"},
		{"error rate NaN", map[string]string{"ERROR_RATE": "NaN"}, Config{}, "within [0, 1]"},
		{"port out of range", map[string]string{"PORT": "70000"}, Config{}, "PORT"},
		{"port not a number", map[string]string{"PORT": "http"}, Config{}, "PORT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			got, err := LoadConfig(lookup, func() (string, error) { return "node-host", nil })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestLoadConfigWithoutHostname(t *testing.T) {
	_, err := LoadConfig(func(string) (string, bool) { return "", false }, func() (string, error) { return "", errors.New("no uts") })
	if err == nil || !strings.Contains(err.Error(), "POD_NAME") {
		t.Fatalf("err = %v, want one about POD_NAME", err)
	}
	podOnly := func(k string) (string, bool) {
		if k == "POD_NAME" {
			return "p", true
		}
		return "", false
	}
	c, err := LoadConfig(podOnly, func() (string, error) { return "", errors.New("no uts") })
	if err != nil || c.Pod != "p" {
		t.Fatalf("POD_NAME set: got %q, %v", c.Pod, err)
	}
}
