package external

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// session is one MCP session with a plugin server: JSON-RPC calls and
// notifications, many in flight at once.
type session interface {
	call(ctx context.Context, method string, params []byte) (json.RawMessage, error)
	notify(ctx context.Context, method string, params []byte) error
	close() error
}

// maxMessageBytes bounds one message from a plugin server: a server that
// sends more in one line, body or event has lost its way.
const maxMessageBytes = 64 << 20

type rpcReply struct {
	result json.RawMessage
	err    error
}

// pendingCalls correlates the answers arriving on a stream with the calls
// waiting for them, by id.
type pendingCalls struct {
	mu    sync.Mutex
	next  int64
	calls map[int64]chan rpcReply
	err   error // set when the session is lost: no new calls
}

func (p *pendingCalls) add() (int64, chan rpcReply, error) {
	ch := make(chan rpcReply, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return 0, nil, p.err
	}
	if p.calls == nil {
		p.calls = map[int64]chan rpcReply{}
	}
	p.next++
	p.calls[p.next] = ch
	return p.next, ch, nil
}

func (p *pendingCalls) take(id int64) chan rpcReply {
	p.mu.Lock()
	ch := p.calls[id]
	delete(p.calls, id)
	p.mu.Unlock()
	return ch
}

// fail answers every waiting call with err and refuses new ones.
func (p *pendingCalls) fail(err error) {
	p.mu.Lock()
	calls := p.calls
	p.calls, p.err = nil, err
	p.mu.Unlock()
	for _, ch := range calls {
		ch <- rpcReply{err: err}
	}
}

// streamSession is a session whose answers arrive on one stream (a STDIO
// server's stdout, a legacy SSE stream) in any order: calls are pipelined,
// each waits for its own id.
type streamSession struct {
	pending pendingCalls
	// send puts one message on the wire; it owns msg.
	send    func(ctx context.Context, msg *bytes.Buffer) error
	closeFn func() error
	logger  *slog.Logger

	done      chan struct{}
	failOnce  sync.Once
	closeOnce sync.Once
}

func newStreamSession(logger *slog.Logger) *streamSession {
	return &streamSession{logger: logger, done: make(chan struct{})}
}

func (s *streamSession) fail(err error) {
	s.failOnce.Do(func() {
		s.pending.fail(lost(err))
		close(s.done)
	})
}

func (s *streamSession) call(ctx context.Context, method string, params []byte) (json.RawMessage, error) {
	id, ch, err := s.pending.add()
	if err != nil {
		return nil, err
	}
	b := getBuf()
	appendRequest(b, id, method, params)
	if err := s.send(ctx, b); err != nil {
		s.pending.take(id)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, lost(err)
	}
	select {
	case r := <-ch:
		return r.result, r.err
	case <-ctx.Done():
		if s.pending.take(id) != nil {
			// Tell the server, as MCP clients do; it may stop working on it.
			c := fmt.Appendf(nil, `{"requestId":%d,"reason":%q}`, id, ctx.Err().Error())
			go s.sendBriefly(func(ctx context.Context) error { return s.notify(ctx, "notifications/cancelled", c) })
		}
		return nil, ctx.Err()
	}
}

// sendBriefly runs a send nobody waits for, bounded so that a server that
// stopped reading does not collect goroutines.
func (s *streamSession) sendBriefly(send func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = send(ctx)
}

func (s *streamSession) notify(ctx context.Context, method string, params []byte) error {
	b := getBuf()
	appendRequest(b, 0, method, params)
	return s.send(ctx, b)
}

func (s *streamSession) close() error {
	var err error
	s.closeOnce.Do(func() {
		s.fail(errors.New("session closed"))
		if s.closeFn != nil {
			err = s.closeFn()
		}
	})
	return err
}

// handle reads one message from the server: an answer goes to its call; a
// request is answered (ping, or "not supported": a plugin server has no
// business asking its client for sampling or roots); a notification is
// dropped.
func (s *streamSession) handle(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	var msg rpcMessage
	if err := decodeMessage(line, &msg); err != nil {
		s.logger.Warn("plugin server wrote a line that is not JSON-RPC; ignored", "error", err.Error(), "bytes", len(line))
		return
	}
	switch {
	case msg.isResponse():
		id, ok := msg.intID()
		if !ok {
			return
		}
		if ch := s.pending.take(id); ch != nil {
			// The line is the reader's buffer: the result is copied out.
			r := rpcReply{result: bytes.Clone(msg.Result)}
			if msg.Error != nil {
				r.err = msg.Error
			}
			ch <- r
		}
	case msg.isRequest():
		b := getBuf()
		if msg.Method == "ping" {
			appendResponse(b, msg.ID, []byte("{}"), nil)
		} else {
			appendResponse(b, msg.ID, nil, &rpcError{Code: codeMethodNotFound, Message: "method not supported by mcp-extproc: " + msg.Method})
		}
		go s.sendBriefly(func(ctx context.Context) error { return s.send(ctx, b) })
	}
}

// readLines feeds every line of r to the session until r ends; then the
// session is lost.
func (s *streamSession) readLines(r io.Reader) {
	err := eachLine(r, s.handle)
	if errors.Is(err, io.EOF) {
		err = errors.New("plugin server closed its output")
	}
	s.fail(err)
}

// eachLine calls handle with every line of r (valid until handle returns)
// and returns what ended r: io.EOF, or a line over maxMessageBytes.
func eachLine(r io.Reader, handle func([]byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			long = append(long, line...)
			if len(long) > maxMessageBytes {
				return fmt.Errorf("a message over %d bytes", maxMessageBytes)
			}
			continue
		case long != nil:
			long = append(long, line...)
			line, long = long, nil
		}
		handle(line)
		if err != nil {
			return err
		}
	}
}

// pipeWriter is the send side of a STDIO channel (either end): callers
// queue their messages and one goroutine writes them, as many as are
// waiting in one write, so that a peer that stops reading holds no caller
// past its deadline and concurrent calls share system calls.
type pipeWriter struct {
	out      chan *bytes.Buffer
	done     <-chan struct{}
	finished chan struct{}
	// closedErr is what send answers once done is closed.
	closedErr func() error
}

// newPipeWriter writes to w until done is closed or a write fails (then
// fail is called).
func newPipeWriter(w io.Writer, done <-chan struct{}, fail func(error), closedErr func() error) *pipeWriter {
	p := &pipeWriter{out: make(chan *bytes.Buffer, 256), done: done, finished: make(chan struct{}), closedErr: closedErr}
	go p.loop(w, fail)
	return p
}

// send queues one message; it owns msg.
func (p *pipeWriter) send(ctx context.Context, msg *bytes.Buffer) error {
	msg.WriteByte('\n')
	select {
	case p.out <- msg:
		return nil
	case <-p.done:
		return p.closedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pipeWriter) loop(w io.Writer, fail func(error)) {
	defer close(p.finished)
	bw := bufio.NewWriterSize(w, 32<<10)
	for {
		select {
		case b, ok := <-p.out:
			var err error
			for ok && err == nil {
				_, err = bw.Write(b.Bytes())
				putBuf(b)
				if len(p.out) == 0 {
					break
				}
				b, ok = <-p.out
			}
			if err == nil {
				err = bw.Flush()
			}
			if err != nil {
				fail(err)
				return
			}
			if !ok {
				return
			}
		case <-p.done:
			return
		}
	}
}

// drain writes what is queued and stops; no send may follow.
func (p *pipeWriter) drain() {
	close(p.out)
	<-p.finished
}

// err0 is the error the session failed with.
func (p *pendingCalls) err0() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		return lost(errors.New("session closed"))
	}
	return p.err
}
