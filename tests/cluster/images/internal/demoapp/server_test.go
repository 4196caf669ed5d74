package demoapp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// logSink collects log lines so tests can wait for lifecycle events, as the Python
// tests wait on the app's stderr.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, fmt.Sprintf(format, args...))
}

func (s *logSink) wait(t *testing.T, substr string) {
	t.Helper()
	defer func() {
		if t.Failed() {
			s.mu.Lock()
			t.Logf("log so far: %q", s.lines)
			s.mu.Unlock()
		}
	}()
	eventually(t, "log line "+substr, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, l := range s.lines {
			if strings.Contains(l, substr) {
				return true
			}
		}
		return false
	})
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func noExit(int) { panic("exit called") }

func listen(t *testing.T, c Config, logs *logSink, exit func(int)) *App {
	t.Helper()
	c.Host, c.Port, c.Version, c.Pod = "127.0.0.1", 0, "7", "web-abc"
	app, err := Listen(c, logs.logf, exit)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// raw sends a request as written and returns everything until the server's EOF.
func raw(t *testing.T, addr net.Addr, request string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, request)
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
}

func TestRoutesOverTheWire(t *testing.T) {
	app := listen(t, Config{}, &logSink{}, noExit)
	defer app.srv.close()
	cases := []struct {
		name, request, status, ctype, body string
	}{
		{"root", get("/"), "HTTP/1.0 200 OK", "application/json", `{"version": "7", "pod": "web-abc"}`},
		{"query ignored", get("/?x=1"), "HTTP/1.0 200 OK", "application/json", `{"version": "7", "pod": "web-abc"}`},
		{"healthz", get("/healthz"), "HTTP/1.0 200 OK", "text/plain", "ok\n"},
		{"health", get("/health"), "HTTP/1.0 200 OK", "text/plain", "ok\n"},
		{"readyz", get("/readyz?verbose"), "HTTP/1.0 200 OK", "text/plain", "ok\n"},
		{"metrics counts the two GET /", get("/metrics"), "HTTP/1.0 200 OK", "application/json", `{"requests": 2, "errors": 0, "error_rate": 0.0}`},
		{"unknown path", get("/nope"), "HTTP/1.0 404 Not Found", "text/plain", "not found\n"},
		{"absolute-form is not /", "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.0 404 Not Found", "text/plain", "not found\n"},
		{"HTTP/1.0 client", "GET /healthz HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK", "text/plain", "ok\n"},
		{"POST is not implemented", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "HTTP/1.0 501 Not Implemented", "text/plain", "unsupported method\n"},
		{"HEAD has no body", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.0 501 Not Implemented", "text/plain", ""},
		{"garbage", "NOT HTTP\r\n\r\n", "HTTP/1.0 400 Bad Request", "text/plain", "bad request\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head, body, _ := strings.Cut(raw(t, app.Addr(), tc.request), "\r\n\r\n")
			lines := strings.Split(head, "\r\n")
			if lines[0] != tc.status {
				t.Errorf("status line %q, want %q", lines[0], tc.status)
			}
			for _, want := range []string{"Content-Type: " + tc.ctype, "Connection: close"} {
				if !strings.Contains(head, want) {
					t.Errorf("headers %q lack %q", head, want)
				}
			}
			if body != tc.body {
				t.Errorf("body %q, want %q", body, tc.body)
			}
		})
	}
}

func TestErrorRateOverTheWire(t *testing.T) {
	app := listen(t, Config{ErrorRate: 0.3}, &logSink{}, noExit)
	defer app.srv.close()
	errs := 0
	for range 100 {
		if strings.HasPrefix(raw(t, app.Addr(), get("/")), "HTTP/1.0 500 ") {
			errs++
		}
	}
	if errs != 30 {
		t.Fatalf("%d of 100 answered 500, want 30", errs)
	}
	want := `{"requests": 100, "errors": 30, "error_rate": 0.3}`
	if !strings.HasSuffix(raw(t, app.Addr(), get("/metrics")), want) {
		t.Fatalf("metrics do not end with %s", want)
	}
}

// The port of test_sigterm_drains_in_flight_and_exits_0.
func TestDrainServesThenClosesThenFinishesInFlight(t *testing.T) {
	logs := &logSink{}
	app := listen(t, Config{ShutdownDelaySeconds: 0.6}, logs, noExit)
	inFlight, err := net.Dial("tcp", app.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer inFlight.Close()
	io.WriteString(inFlight, "GET / HTTP/1.1\r\n") // half a request: its handler is busy reading
	time.Sleep(100 * time.Millisecond)

	drained := make(chan struct{})
	go func() { app.Drain(syscall.SIGTERM); close(drained) }()
	logs.wait(t, "SIGTERM received; serving 0.6s more before closing the listener")
	if got := raw(t, app.Addr(), get("/readyz")); !strings.HasPrefix(got, "HTTP/1.0 503 ") {
		t.Errorf("readyz while draining: %q, want 503", got)
	}
	if got := raw(t, app.Addr(), get("/")); !strings.HasPrefix(got, "HTTP/1.0 200 ") {
		t.Errorf("GET / during the shutdown delay: %q, want 200", got)
	}
	eventually(t, "the listener to refuse", func() bool {
		c, err := net.Dial("tcp", app.Addr().String())
		if err == nil {
			c.Close()
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	select {
	case <-drained:
		t.Fatal("drain finished with a request in flight")
	case <-time.After(100 * time.Millisecond):
	}

	io.WriteString(inFlight, "Host: x\r\nConnection: close\r\n\r\n")
	out, _ := io.ReadAll(inFlight)
	if !strings.HasPrefix(string(out), "HTTP/1.0 200 ") {
		t.Errorf("the in-flight request got %q, want 200", out)
	}
	select {
	case <-drained:
	case <-time.After(2 * time.Second):
		t.Fatal("drain did not finish after the last request")
	}
	logs.wait(t, "listener closed, requests in flight finished; exiting 0")
}

func TestRun(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cases := []struct {
		name    string
		cfg     Config
		signal  os.Signal
		wantLog string
		code    int
	}{
		{"SIGTERM during startup exits 0", Config{StartupSeconds: 30}, syscall.SIGTERM, "stopped during startup; exiting 0", 0},
		{"SIGINT drains like SIGTERM", Config{}, syscall.SIGINT, "SIGINT received; serving 0s more", 0},
		{"port taken exits 1", Config{Port: taken.Addr().(*net.TCPAddr).Port}, nil, "address already in use", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Host = "127.0.0.1"
			stop := make(chan os.Signal, 1)
			if tc.signal != nil {
				stop <- tc.signal
			}
			logs := &logSink{}
			done := make(chan int)
			go func() { done <- Run(tc.cfg, stop, logs.logf, noExit) }()
			select {
			case code := <-done:
				if code != tc.code {
					t.Errorf("exit code %d, want %d", code, tc.code)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("Run did not return")
			}
			logs.wait(t, tc.wantLog)
		})
	}
}

func TestTimedKnobsLogAndCrash(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		wantLog string
		exit    int // -1: exit must not be called
	}{
		{"ready is logged when it turns ready", Config{ReadyAfterSeconds: 0.05}, "ready", -1},
		{"FAIL_READINESS says so", Config{FailReadiness: true}, "FAIL_READINESS set: never ready", -1},
		{"liveness failing is logged", Config{FailLivenessAfterSeconds: f64(0.05)}, "liveness now failing", -1},
		{"crash exits 1", Config{CrashAfterSeconds: f64(0.05)}, "crashing (exit 1)", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exited := make(chan int, 1)
			logs := &logSink{}
			app := listen(t, tc.cfg, logs, func(code int) { exited <- code })
			defer app.srv.close()
			logs.wait(t, tc.wantLog)
			if tc.exit >= 0 {
				select {
				case code := <-exited:
					if code != tc.exit {
						t.Errorf("exit(%d), want exit(%d)", code, tc.exit)
					}
				case <-time.After(2 * time.Second):
					t.Fatal("exit not called")
				}
			}
		})
	}
}

func TestFailReadinessTurnsARunningAppUnreadyAndKeepsItServing(t *testing.T) {
	app := listen(t, Config{}, &logSink{}, noExit)
	if got := raw(t, app.Addr(), get("/readyz")); !strings.HasPrefix(got, "HTTP/1.0 200 ") {
		t.Fatalf("readyz before: %q, want 200", got)
	}
	if got := raw(t, app.Addr(), get("/fail-readiness")); !strings.HasPrefix(got, "HTTP/1.0 200 ") {
		t.Fatalf("fail-readiness: %q, want 200", got)
	}
	if got := raw(t, app.Addr(), get("/readyz")); !strings.HasPrefix(got, "HTTP/1.0 503 ") {
		t.Errorf("readyz after: %q, want 503", got)
	}
	if got := raw(t, app.Addr(), get("/healthz")); !strings.HasPrefix(got, "HTTP/1.0 200 ") {
		t.Errorf("healthz after: %q, want 200 (still alive)", got)
	}
	if got := raw(t, app.Addr(), get("/")); !strings.HasPrefix(got, "HTTP/1.0 200 ") {
		t.Errorf("GET / after: %q, want 200 (still serving)", got)
	}
}
