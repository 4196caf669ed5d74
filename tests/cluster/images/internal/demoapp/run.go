package demoapp

import (
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Run is the process from start to exit code. stop delivers SIGTERM or SIGINT (main
// subscribes before calling, so an early signal waits in the channel); exit is os.Exit,
// which CRASH_AFTER_SECONDS calls from a timer to die abruptly.
func Run(c Config, stop <-chan os.Signal, logf Logger, exit func(int)) int {
	logf("starting version=%s pod=%s", c.Version, c.Pod)
	if c.StartupSeconds > 0 {
		select {
		case <-stop:
			logf("stopped during startup; exiting 0")
			return 0
		case <-time.After(duration(c.StartupSeconds)):
		}
	}
	app, err := Listen(c, logf, exit)
	if err != nil {
		logf("%v", err)
		return 1
	}
	app.Drain(<-stop)
	return 0
}

// App is a listening demo app.
type App struct {
	cfg    Config
	log    Logger
	srv    *server
	health *health
}

// Listen opens the listener, serves, and arms the timed knobs, whose clocks start now.
func Listen(c Config, logf Logger, exit func(int)) (*App, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)))
	if err != nil {
		return nil, err
	}
	a := &App{cfg: c, log: logf, health: newHealth(c, time.Now())}
	rt := &routes{version: c.Version, pod: c.Pod, errors: NewErrorSchedule(c.ErrorRate), health: a.health, now: time.Now}
	a.srv = newServer(ln, rt.answer)
	logf("listening on %s", net.JoinHostPort(c.Host, strconv.Itoa(a.Addr().Port)))
	go a.srv.serve()

	if c.FailReadiness {
		logf("FAIL_READINESS set: never ready")
	} else {
		time.AfterFunc(a.health.readyAfter, func() { logf("ready") })
	}
	if c.FailLivenessAfterSeconds != nil {
		time.AfterFunc(*a.health.failLivenessAfter, func() { logf("liveness now failing") })
	}
	if c.CrashAfterSeconds != nil {
		time.AfterFunc(duration(*c.CrashAfterSeconds), func() {
			logf("crashing (exit 1)")
			exit(1)
		})
	}
	return a, nil
}

func (a *App) Addr() *net.TCPAddr { return a.srv.ln.Addr().(*net.TCPAddr) }

// Drain is the SIGTERM sequence: not ready at once, keep serving for the shutdown delay
// (endpoints take a moment to drop the pod), then stop accepting and finish in-flight.
func (a *App) Drain(sig os.Signal) {
	a.health.draining.Store(true)
	a.log("%s received; serving %ss more before closing the listener", signalName(sig), pyG(a.cfg.ShutdownDelaySeconds))
	time.Sleep(duration(a.cfg.ShutdownDelaySeconds))
	a.srv.close()
	a.log("listener closed, requests in flight finished; exiting 0")
}

// signalName is Python's signal.Signals(n).name; Go's String() says "terminated".
func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return sig.String()
}
