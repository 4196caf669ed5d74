// Command pause is PID 1 of a pod sandbox: it holds the pod's namespaces open, reaps
// the orphans the kernel re-parents to it (nobody else would, and zombies would pile up
// in the pod), and exits 0 when the kubelet stops the sandbox.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// As PID 1, a signal without a handler is ignored by the kernel: SIGTERM must be handled
	// explicitly or stopping the sandbox would wait for SIGKILL.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range sigs {
		if sig == syscall.SIGCHLD {
			reapAll()
			continue
		}
		fmt.Fprintf(os.Stderr, "pause: %v, exiting 0\n", sig)
		os.Exit(0)
	}
}

// reapAll waits for every exited child: SIGCHLDs coalesce, so one signal may stand for many.
func reapAll() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
