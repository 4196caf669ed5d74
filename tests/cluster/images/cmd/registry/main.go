// Command registry is the test cluster's image registry: at start it builds the demo-app
// and pause images from the given binaries, pushes them into its own in-memory store, and
// serves them on a loopback address. A tag it did not push is a 404 MANIFEST_UNKNOWN,
// which is how a test gets a real ErrImagePull.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

type options struct {
	addr, demoApp, pause, demoRepo, demoTags, pauseRef string
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:5000", "listen address (port 0 picks one; stdout says which)")
	flag.StringVar(&o.demoApp, "demo-app", "", "the demo-app binary (static)")
	flag.StringVar(&o.pause, "pause", "", "the pause binary (static)")
	flag.StringVar(&o.demoRepo, "demo-repo", "demo-app", "repository of the demo-app images")
	flag.StringVar(&o.demoTags, "demo-tags", "1,2,3,4,5,6,7,8,9", "comma-separated demo-app tags; each image has VERSION=<tag>")
	flag.StringVar(&o.pauseRef, "pause-ref", "pause:3.10", "repository:tag of the pause image")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "registry: %v\n", err)
	os.Exit(1)
}

// run serves until ctx ends. It reads the binaries before binding, so a wrong path fails
// without ever taking the port; the ready line goes to stdout only once every image is in.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	cat, err := buildCatalog(o)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("cannot serve: %w", err)
	}
	defer ln.Close()
	host := ln.Addr().String()
	// The in-memory store: a few static binaries are small, and nothing must outlive the run.
	handler := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var live atomic.Bool
	srv := &http.Server{Handler: logRequests(handler, stderr, &live), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer srv.Close()

	refs, err := cat.under(host)
	if err != nil {
		return err
	}
	if err := remote.MultiWrite(refs, remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("pushing the images into itself: %w", err)
	}
	live.Store(true)
	fmt.Fprintf(stdout, "registry: serving %d images on %s\n", len(cat), host)
	select {
	case <-ctx.Done():
		return nil
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
