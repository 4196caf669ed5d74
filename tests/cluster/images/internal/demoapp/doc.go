// Package demoapp is the demo app the node runs for image demo-app:<tag>. It began as a
// port of the Python app the retired simulated node ran, and keeps its routes, bodies, env
// knobs, error schedule, drain and log lines, which the harness's log waits match.
//
// Routes: GET / -> 200 {"version", "pod"}; /healthz and /health (liveness);
// /readyz (readiness, 503 until ready); /metrics -> {"requests", "errors", "error_rate"};
// /fail-readiness turns the app unready for good.
//
// Env knobs (seconds unless noted; the *_AFTER_* timers count from the moment it listens):
//
//	HOST (0.0.0.0), PORT (8080; 0 picks a free one, the log says which),
//	VERSION ("dev" when unset or empty), POD_NAME (the hostname),
//	STARTUP_SECONDS              sleep before listening (connections are refused meanwhile)
//	READY_AFTER_SECONDS          /readyz answers 503 until this long after listening
//	FAIL_READINESS               any non-empty value but 0/false: never ready
//	FAIL_LIVENESS_AFTER_SECONDS  /healthz and /health answer 500 from then on
//	CRASH_AFTER_SECONDS          the process exits 1 (abruptly, like a crash)
//	ERROR_RATE                   fraction of GET / answered 500, spread evenly (exact)
//	SHUTDOWN_DELAY_SECONDS       after SIGTERM, keep serving this long before closing
//
// On SIGTERM or SIGINT: /readyz turns 503 (a draining app is not ready), the app keeps
// serving for SHUTDOWN_DELAY_SECONDS, then closes its listener, finishes the requests in
// flight and exits 0. One line per lifecycle event goes to stderr.
package demoapp
