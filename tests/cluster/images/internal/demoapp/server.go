package demoapp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// requestTimeout is Python's Handler.timeout: a client that never finishes its request
// must not hold up the drain forever.
const requestTimeout = 10 * time.Second

// server answers exactly one request per connection with an HTTP/1.0 status line and
// Connection: close, then closes, as Python's BaseHTTPRequestHandler does. net/http would
// answer HTTP/1.1 and keep connections alive; the harness's meter and tests read until
// EOF and check the status line, so the wire format is kept rather than approximated.
type server struct {
	ln     net.Listener
	answer func(*http.Request) reply
	conns  sync.WaitGroup
	done   chan struct{} // closed when the accept loop has stopped
}

func newServer(ln net.Listener, answer func(*http.Request) reply) *server {
	return &server{ln: ln, answer: answer, done: make(chan struct{})}
}

// serve accepts until the listener is closed.
func (s *server) serve() {
	defer close(s.done)
	for {
		c, err := s.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil { // out of file descriptors and the like: back off, as net/http does
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.conns.Add(1)
		go func() {
			defer s.conns.Done()
			s.handle(c)
		}()
	}
}

// close stops accepting (the kernel refuses or resets what comes next) and returns once
// every accepted connection has had its answer: "finish the requests in flight".
func (s *server) close() {
	s.ln.Close()
	<-s.done
	s.conns.Wait()
}

func (s *server) handle(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(requestTimeout))
	req, err := http.ReadRequest(bufio.NewReader(c))
	var r reply
	switch {
	case err == nil:
		r = s.answer(req)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), isNetError(err):
		return // gone or silent: Python answers nothing either
	default:
		r = text(http.StatusBadRequest, "bad request")
	}
	writeReply(c, r, req != nil && req.Method == http.MethodHead)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite() // FIN after the body, like socketserver's shutdown(SHUT_WR)
	}
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

func writeReply(w io.Writer, r reply, head bool) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "HTTP/1.0 %d %s\r\n", r.status, http.StatusText(r.status))
	fmt.Fprintf(bw, "Server: demo-app\r\nDate: %s\r\n", time.Now().UTC().Format(http.TimeFormat))
	fmt.Fprintf(bw, "Content-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", r.contentType, len(r.body))
	if !head {
		bw.Write(r.body)
	}
	return bw.Flush()
}
