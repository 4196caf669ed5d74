package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// lines is a writer tests can wait on, for the ready line and the request log.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) waitFor(t *testing.T, substr string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		l.mu.Lock()
		s := l.buf.String()
		l.mu.Unlock()
		if strings.Contains(s, substr) {
			return s
		}
	}
	t.Fatalf("no %q in output", substr)
	return ""
}

func fakeBinaries(t *testing.T) options {
	dir := t.TempDir()
	o := options{addr: "127.0.0.1:0", demoRepo: "demo-app", demoTags: "1, 2,3", pauseRef: "pause:3.10"}
	o.demoApp, o.pause = filepath.Join(dir, "demo-app"), filepath.Join(dir, "pause")
	for _, f := range []string{o.demoApp, o.pause} {
		if err := os.WriteFile(f, []byte("\x7fELF "+filepath.Base(f)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func TestServesWhatItPushedAndNothingElse(t *testing.T) {
	o := fakeBinaries(t)
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &lines{}, &lines{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, stdout, stderr) }()
	out := stdout.waitFor(t, "\n")
	var host string
	if _, err := fmt.Sscanf(out, "registry: serving 4 images on %s\n", &host); err != nil {
		t.Fatalf("ready line %q: %v", out, err)
	}

	for _, tag := range []string{"1", "2", "3"} {
		img, err := remote.Image(ref(t, host+"/demo-app:"+tag))
		if err != nil {
			t.Fatalf("demo-app:%s: %v", tag, err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"VERSION=" + tag}; !reflect.DeepEqual(cfg.Config.Env, want) {
			t.Errorf("demo-app:%s env %v, want %v", tag, cfg.Config.Env, want)
		}
	}
	pause, err := remote.Image(ref(t, host+"/pause:3.10"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _ := pause.ConfigFile(); !reflect.DeepEqual(cfg.Config.Entrypoint, []string{"/pause"}) {
		t.Errorf("pause entrypoint %v", cfg.Config.Entrypoint)
	}

	_, err = remote.Image(ref(t, host+"/demo-app:4"))
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode != 404 || len(terr.Errors) == 0 || terr.Errors[0].Code != transport.ManifestUnknownErrorCode {
		t.Fatalf("an unpushed tag gave %v, want 404 MANIFEST_UNKNOWN", err)
	}
	stderr.waitFor(t, "GET /v2/demo-app/manifests/4 404")
	stderr.waitFor(t, "/v2/demo-app/manifests/1 200")
	if log := stderr.waitFor(t, ""); strings.Count(log, "\n") != 5 {
		// Three configs read by tag, pause, the unknown tag; nothing from the self-push.
		t.Errorf("request log has other lines than the five reads:\n%s", log)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run after cancel: %v", err)
	}
}

func ref(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.NewTag(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRefusesToStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	notELF := filepath.Join(t.TempDir(), "script")
	os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755)
	cases := []struct {
		name   string
		change func(*options)
		want   string
	}{
		{"demo-app missing", func(o *options) { o.demoApp = "/nonexistent/demo-app" }, "--demo-app: open /nonexistent/demo-app"},
		{"pause not given", func(o *options) { o.pause = "" }, "--pause is required"},
		{"not a static binary", func(o *options) { o.pause = notELF }, "not an ELF executable"},
		{"port taken", func(o *options) { o.addr = taken.Addr().String() }, "address already in use"},
		{"no tags", func(o *options) { o.demoTags = " , " }, "no tags"},
		{"bad tag", func(o *options) { o.demoTags = "1,no spaces" }, `"demo-app:no spaces"`},
		{"bad pause ref", func(o *options) { o.pauseRef = "Pause:3.10" }, `"Pause:3.10"`},
		{"pause ref without a tag", func(o *options) { o.pauseRef = "pause" }, `"pause"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := fakeBinaries(t)
			tc.change(&o)
			err := run(context.Background(), o, &lines{}, &lines{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestSplitTags(t *testing.T) {
	cases := map[string][]string{"1,2,3": {"1", "2", "3"}, " 1, 2,,1 ": {"1", "2"}, "": nil, "v1.0": {"v1.0"}}
	for in, want := range cases {
		if got := splitTags(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitTags(%q) = %v, want %v", in, got, want)
		}
	}
}
