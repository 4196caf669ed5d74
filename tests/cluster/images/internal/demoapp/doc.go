// Package demoapp is the demo app the node runs for image demo-app:<tag>: a Go port of
// tests/cluster/localcluster/demoapp.py, so a real container behaves exactly as the
// simulated one did. Same routes, bodies, env knobs, error schedule, drain and log lines.
//
// Routes: GET / -> 200 {"version", "pod"}; /healthz and /health (liveness);
// /readyz (readiness, 503 until ready); /metrics -> {"requests", "errors", "error_rate"}.
//
// Two deliberate differences: HOST defaults to 0.0.0.0 (a pod has its own network
// namespace), and SIGINT drains like SIGTERM.
package demoapp
