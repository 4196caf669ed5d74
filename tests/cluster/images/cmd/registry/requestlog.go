package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// logRequests writes one line per manifest GET or HEAD (what a pull asks: containerd
// resolves the tag with HEAD, then GETs by digest) and per failed request of any other
// kind, so a pull and a failed pull both show in the log. Blob traffic stays quiet, and
// so does everything before live is set: the self-push's existence checks are all 404s.
func logRequests(next http.Handler, w io.Writer, live *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		rec := &statusRecorder{ResponseWriter: rw, status: http.StatusOK}
		next.ServeHTTP(rec, req)
		if !live.Load() {
			return
		}
		manifestRead := strings.Contains(req.URL.Path, "/manifests/") &&
			(req.Method == http.MethodGet || req.Method == http.MethodHead)
		if manifestRead || rec.status >= 400 {
			fmt.Fprintf(w, "%s registry: %s %s %d\n", time.Now().Format("15:04:05"), req.Method, req.URL.Path, rec.status)
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
