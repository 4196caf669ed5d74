// Command demo-app is the demo app image's entrypoint; see internal/demoapp.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"nodowntime.dev/images/internal/demoapp"
)

func main() {
	// Subscribed before anything else, so a SIGTERM during startup is not lost (or fatal).
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	logf := demoapp.NewLogger(os.Stderr)
	cfg, err := demoapp.LoadConfig(os.LookupEnv, os.Hostname)
	if err != nil {
		logf("%v", err)
		os.Exit(1) // as the Python app's traceback did
	}
	os.Exit(demoapp.Run(cfg, stop, logf, os.Exit))
}
