package demoapp

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Config is the env knobs, read once. Seconds stay float64 as the Python app had them,
// so log lines print the value the user wrote (0.6s, not 600ms).
type Config struct {
	Host                     string
	Port                     int
	Version                  string
	Pod                      string
	StartupSeconds           float64  // sleep before listening; connections are refused meanwhile
	ReadyAfterSeconds        float64  // /readyz answers 503 until this long after listening
	FailReadiness            bool     // never ready
	FailLivenessAfterSeconds *float64 // nil: liveness never fails
	CrashAfterSeconds        *float64 // nil: never crashes
	ErrorRate                float64  // fraction of GET / answered 500
	ShutdownDelaySeconds     float64  // after SIGTERM, keep serving this long
}

// LoadConfig reads the knobs through lookup (os.LookupEnv in main). Unlike the Python app,
// which parsed SHUTDOWN_DELAY_SECONDS only when SIGTERM came, every knob is checked here:
// a typo fails the container at start, where kubectl shows it, not at its first rollout.
func LoadConfig(lookup func(string) (string, bool), hostname func() (string, error)) (Config, error) {
	get := func(name string) string { v, _ := lookup(name); return v }
	c := Config{Host: "0.0.0.0", Version: get("VERSION"), Pod: get("POD_NAME")}
	if host, ok := lookup("HOST"); ok {
		c.Host = host // set but empty means every interface, as in Python
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Pod == "" {
		name, err := hostname()
		if err != nil {
			return c, fmt.Errorf("POD_NAME unset and no hostname: %w", err)
		}
		c.Pod = name
	}
	p := parser{get: get}
	c.Port = p.port("PORT", 8080)
	c.StartupSeconds = p.secondsOr("STARTUP_SECONDS", 0)
	c.ReadyAfterSeconds = p.secondsOr("READY_AFTER_SECONDS", 0)
	c.FailReadiness = flag(get("FAIL_READINESS"))
	c.FailLivenessAfterSeconds = p.seconds("FAIL_LIVENESS_AFTER_SECONDS")
	c.CrashAfterSeconds = p.seconds("CRASH_AFTER_SECONDS")
	c.ErrorRate = p.rate("ERROR_RATE")
	c.ShutdownDelaySeconds = p.secondsOr("SHUTDOWN_DELAY_SECONDS", 0)
	return c, p.err
}

// flag is Python's env_flag: any value but "", 0, false, no (any case, spaces ignored).
func flag(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no":
		return false
	}
	return true
}

// parser keeps the first error, so LoadConfig reads as a list of knobs.
type parser struct {
	get func(string) string
	err error
}

func (p *parser) fail(name, v, want string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s=%q: want %s", name, v, want)
	}
}

// seconds is nil for an unset or empty knob, like Python's env_seconds returning None.
func (p *parser) seconds(name string) *float64 {
	v := strings.TrimSpace(p.get(name))
	if v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) {
		p.fail(name, v, "a number of seconds")
		return nil
	}
	return &f
}

func (p *parser) secondsOr(name string, def float64) float64 {
	if f := p.seconds(name); f != nil {
		return *f
	}
	return def
}

func (p *parser) port(name string, def int) int {
	v := strings.TrimSpace(p.get(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 65535 {
		p.fail(name, v, "a port number 0-65535 (0 picks a free one)")
		return def
	}
	return n
}

func (p *parser) rate(name string) float64 {
	v := strings.TrimSpace(p.get(name))
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= 0 && f <= 1) { // written so NaN fails too
		p.fail(name, v, "a fraction within [0, 1]")
		return 0
	}
	return f
}
