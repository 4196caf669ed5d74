package demoapp

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Logger writes one line per lifecycle event (never per request).
type Logger func(format string, args ...any)

// NewLogger writes the Python app's line format, which the harness's log waits match.
func NewLogger(w io.Writer) Logger {
	pid := os.Getpid()
	return func(format string, args ...any) {
		// One Write per line, so lines from timers and the main goroutine never interleave.
		fmt.Fprintf(w, "%s demoapp[%d]: %s\n", time.Now().Format("15:04:05"), pid, fmt.Sprintf(format, args...))
	}
}
