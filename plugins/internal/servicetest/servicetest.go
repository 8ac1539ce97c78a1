// Package servicetest holds what the stand-ins of the services that
// plugin kinds call (moderationtest, llamaguardtest, webhooktest) share:
// a loopback listener, faults that make a stand-in slow, failing or
// malformed, and OpenAI's error object.
//
// The documented request and answer formats are each stand-in's own.
package servicetest

import (
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"time"
)

// Fault changes how a stand-in answers: after Delay, with Status and Body
// instead of the documented answer (Status 0 with a Body: 200 and that
// body). The zero Fault is a healthy service.
type Fault struct {
	Delay  time.Duration
	Status int
	Body   string
}

// Faults is the fault in force; the zero value is none.
type Faults struct {
	mu sync.Mutex
	f  Fault
}

// Set puts f in force for the requests that follow.
func (fs *Faults) Set(f Fault) {
	fs.mu.Lock()
	fs.f = f
	fs.mu.Unlock()
}

// Get returns the fault in force.
func (fs *Faults) Get() Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f
}

// Wait sleeps the fault's delay; false when the client went away.
func (f Fault) Wait(r *http.Request) bool {
	if f.Delay <= 0 {
		return true
	}
	select {
	case <-time.After(f.Delay):
		return true
	case <-r.Context().Done():
		return false
	}
}

// Respond writes the fault's answer; false when there is none and the
// stand-in answers as documented.
func (f Fault) Respond(w http.ResponseWriter) bool {
	if f.Status == 0 && f.Body == "" {
		return false
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(f.Body))
	return true
}

// Serve starts h on a loopback port and returns its base URL
// (http://127.0.0.1:port) and a function that stops it.
func Serve(h http.Handler) (string, func(), error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	return "http://" + lis.Addr().String(), func() { _ = srv.Close() }, nil
}

// OpenAIError writes OpenAI's error object:
// {"error":{"message","type","param","code"}}.
func OpenAIError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var c any
	if code != "" {
		c = code
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": c}})
}

// Log records what a stand-in received, for a test's assertions.
type Log[T any] struct {
	mu    sync.Mutex
	items []T
}

// Add records v.
func (l *Log[T]) Add(v T) {
	l.mu.Lock()
	l.items = append(l.items, v)
	l.mu.Unlock()
}

// All returns what was recorded so far.
func (l *Log[T]) All() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.items...)
}
