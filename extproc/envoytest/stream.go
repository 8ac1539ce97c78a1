package envoytest

import (
	"context"
	"errors"
	"fmt"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// procStream wraps one ext_proc stream: sends are direct, receives go
// through a reader goroutine so that each wait can time out as Envoy's
// message_timeout does.
type procStream struct {
	s       extprocv3.ExternalProcessor_ProcessClient
	cancel  context.CancelFunc
	in      chan recvResult
	timeout time.Duration
	first   bool
	proto   *extprocv3.ProtocolConfiguration
}

type recvResult struct {
	resp *extprocv3.ProcessingResponse
	err  error
}

// errTimeout is a message_timeout expiry (Envoy answers 504).
var errTimeout = errors.New("ext_proc message timeout")

func openStream(ctx context.Context, c extprocv3.ExternalProcessorClient, timeout time.Duration, proto *extprocv3.ProtocolConfiguration) (*procStream, error) {
	ctx, cancel := context.WithCancel(ctx)
	s, err := c.Process(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	ps := &procStream{s: s, cancel: cancel, in: make(chan recvResult, 16), timeout: timeout, first: true, proto: proto}
	go func() {
		for {
			r, err := s.Recv()
			ps.in <- recvResult{r, err}
			if err != nil {
				close(ps.in)
				return
			}
		}
	}()
	return ps, nil
}

func (p *procStream) send(req *extprocv3.ProcessingRequest) error {
	if p.first {
		req.ProtocolConfig = p.proto
		p.first = false
	}
	if err := p.s.Send(req); err != nil {
		return fmt.Errorf("ext_proc send: %w", err)
	}
	return nil
}

// recv waits for the next response, at most message_timeout.
func (p *procStream) recv() (*extprocv3.ProcessingResponse, error) {
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case r, ok := <-p.in:
		if !ok {
			return nil, errors.New("ext_proc stream closed")
		}
		if r.err != nil {
			return nil, fmt.Errorf("ext_proc stream: %w", r.err)
		}
		return r.resp, nil
	case <-t.C:
		return nil, errTimeout
	}
}

// roundTrip sends a message and waits for its answer.
func (p *procStream) roundTrip(req *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
	if err := p.send(req); err != nil {
		return nil, err
	}
	return p.recv()
}

// close half-closes the stream, as Envoy does when the exchange is done,
// and releases it.
func (p *procStream) close() {
	_ = p.s.CloseSend()
	p.cancel()
}
