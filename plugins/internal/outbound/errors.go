package outbound

import (
	"errors"
	"fmt"
)

// Error kinds, the kind label of mcp_extproc_outbound_errors_total.
const (
	KindTimeout     = "timeout"      // an attempt or the call's deadline ran out
	KindConnection  = "connection"   // no answer: refused, reset, DNS, TLS
	KindStatus      = "status"       // an HTTP status other than the expected
	KindMalformed   = "malformed"    // an answer the kind could not read
	KindBreakerOpen = "breaker_open" // the circuit breaker refused the call
	KindCanceled    = "canceled"     // the plugin call was cancelled
)

// ErrBreakerOpen is what a call refused by an open circuit breaker wraps.
var ErrBreakerOpen = errors.New("circuit breaker open")

// Error is a failed call to a service. Its text names the service, the
// URL's host and path, the kind and, for status errors, the status: never a
// credential, a query string or the answer's body.
type Error struct {
	Service string
	URL     string // scheme, host and path only
	Kind    string
	Status  int // for KindStatus
	Err     error
}

func (e *Error) Error() string {
	switch {
	case e.Kind == KindStatus:
		return fmt.Sprintf("service %s (%s): HTTP status %d", e.Service, e.URL, e.Status)
	case e.Err != nil:
		return fmt.Sprintf("service %s (%s): %s: %v", e.Service, e.URL, e.Kind, e.Err)
	}
	return fmt.Sprintf("service %s (%s): %s", e.Service, e.URL, e.Kind)
}

func (e *Error) Unwrap() error { return e.Err }
