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
	"mime"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// httpSession is a Streamable HTTP session: each call is one POST, answered
// with the JSON-RPC response as a JSON body or in an SSE stream. Calls run
// side by side on kept-alive connections.
type httpSession struct {
	url    string
	client *http.Client
	next   atomic.Int64
	// Set by the initialize call, before the session is shared.
	sessionID     string
	versionHeader []string
}

// Header values shared by every request; nothing modifies them.
var (
	jsonContentType = []string{"application/json"}
	acceptAnswers   = []string{"application/json, text/event-stream"}
)

func (h *httpSession) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	// One map with shared values per call rather than a Set per header.
	req.Header = http.Header{"Content-Type": jsonContentType, "Accept": acceptAnswers}
	if h.sessionID != "" {
		req.Header["Mcp-Session-Id"] = []string{h.sessionID}
	}
	if h.versionHeader != nil {
		req.Header["Mcp-Protocol-Version"] = h.versionHeader
	}
	// The transport itself: a plugin call follows no redirect and keeps no
	// cookies, and Client.Do would copy the headers for redirects it never
	// makes.
	resp, err := h.client.Transport.RoundTrip(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, lost(err)
	}
	return resp, nil
}

// done drains and closes a body so that its connection is reused.
func done(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

func statusError(resp *http.Response) error {
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	return lost(fmt.Errorf("plugin server answered HTTP %s: %s", resp.Status, bytes.TrimSpace(snippet)))
}

func (h *httpSession) call(ctx context.Context, method string, params []byte) (json.RawMessage, error) {
	id := h.next.Add(1)
	b := bytes.NewBuffer(make([]byte, 0, len(params)+96))
	appendRequest(b, id, method, params)
	resp, err := h.post(ctx, b.Bytes())
	if err != nil {
		return nil, err
	}
	defer done(resp)
	if resp.StatusCode == http.StatusNotFound && h.sessionID != "" {
		return nil, lost(errors.New("plugin server ended the session (HTTP 404)"))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp)
	}
	if method == "initialize" {
		h.sessionID = resp.Header.Get("Mcp-Session-Id")
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var msg rpcMessage
	switch ct {
	case "application/json":
		buf := getBuf()
		defer putBuf(buf)
		if n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxMessageBytes+1)); err != nil {
			return nil, ctxOrLost(ctx, err)
		} else if n > maxMessageBytes {
			return nil, lost(fmt.Errorf("plugin server answered with over %d bytes", maxMessageBytes))
		}
		if err := decodeMessage(buf.Bytes(), &msg); err != nil {
			return nil, lost(fmt.Errorf("plugin server answered with a body that is not JSON-RPC: %w", err))
		}
	case "text/event-stream":
		if err := readAnswer(newSSEReader(resp.Body), id, &msg); err != nil {
			return nil, ctxOrLost(ctx, err)
		}
	default:
		return nil, lost(fmt.Errorf("plugin server answered with content type %q", ct))
	}
	if n, ok := msg.intID(); !ok || n != id || !msg.isResponse() {
		return nil, lost(fmt.Errorf("plugin server answered request %d with %s", id, msg.ID))
	}
	if msg.Error != nil {
		return nil, msg.Error
	}
	if ct == "application/json" {
		return bytes.Clone(msg.Result), nil // the buffer goes back to the pool
	}
	return msg.Result, nil
}

// readAnswer reads an SSE answer stream until the response to id; the
// server's notifications and requests on it are skipped.
func readAnswer(r *sseReader, id int64, msg *rpcMessage) error {
	for {
		event, data, err := r.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("plugin server ended its answer stream without the answer")
			}
			return err
		}
		if event != "" && event != "message" {
			continue
		}
		if decodeMessage(data, msg) != nil || !msg.isResponse() {
			continue
		}
		if n, ok := msg.intID(); ok && n == id {
			msg.Result = bytes.Clone(msg.Result) // data is the reader's
			return nil
		}
	}
}

func ctxOrLost(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return lost(err)
}

func (h *httpSession) notify(ctx context.Context, method string, params []byte) error {
	var b bytes.Buffer
	appendRequest(&b, 0, method, params)
	resp, err := h.post(ctx, b.Bytes())
	if err != nil {
		return err
	}
	defer done(resp)
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return statusError(resp)
	}
	return nil
}

// close ends the session on the server (DELETE, as MCP clients do) and
// drops the kept connections.
func (h *httpSession) close() error {
	if h.sessionID != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if req, err := http.NewRequestWithContext(ctx, http.MethodDelete, h.url, nil); err == nil {
			req.Header.Set("Mcp-Session-Id", h.sessionID)
			if resp, err := h.client.Do(req); err == nil {
				done(resp)
			}
		}
	}
	h.client.CloseIdleConnections()
	return nil
}

// dialSSE opens a legacy SSE session (MCP 2024-11-05): a GET stream whose
// first event names the URL to POST messages to; answers arrive on the
// stream.
func dialSSE(ctx context.Context, endpoint string, client *http.Client, logger *slog.Logger) (session, error) {
	base, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel) // until the stream is up, the caller's deadline bounds it
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, endpoint, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	fail := func(err error) (session, error) {
		_ = resp.Body.Close()
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return fail(statusError(resp))
	}
	r := newSSEReader(resp.Body)
	event, data, err := r.next()
	if err != nil {
		return fail(fmt.Errorf("legacy SSE stream: %w", err))
	}
	if event != "endpoint" {
		return fail(fmt.Errorf("legacy SSE stream: first event is %q, want endpoint", event))
	}
	post, err := base.Parse(string(bytes.TrimSpace(data)))
	if err != nil || post.Scheme != base.Scheme || post.Host != base.Host {
		return fail(fmt.Errorf("legacy SSE stream: endpoint %q is not on the server's origin", data))
	}
	if !stop() {
		return fail(ctx.Err())
	}
	s := newStreamSession(logger)
	postURL := post.String()
	s.send = func(ctx context.Context, msg *bytes.Buffer) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, postURL, bytes.NewReader(msg.Bytes()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer done(resp)
		if resp.StatusCode/100 != 2 {
			return statusError(resp)
		}
		return nil
	}
	s.closeFn = func() error {
		cancel()
		client.CloseIdleConnections()
		return resp.Body.Close()
	}
	go func() {
		for {
			event, data, err := r.next()
			if err != nil {
				s.fail(fmt.Errorf("legacy SSE stream: %w", err))
				return
			}
			if event == "" || event == "message" {
				s.handle(data)
			}
		}
	}()
	return s, nil
}

// sseReader reads server-sent events: the event type and the data lines
// joined with "\n". Comments, id and retry fields are skipped.
type sseReader struct {
	br   *bufio.Reader
	data []byte
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{br: bufio.NewReaderSize(r, 16<<10)} }

// next returns the next event; data is valid until the next call.
func (r *sseReader) next() (event string, data []byte, err error) {
	r.data = r.data[:0]
	hasData := false
	var long []byte
	for {
		line, err := r.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, line...)
			if len(long)+len(r.data) > maxMessageBytes {
				return "", nil, fmt.Errorf("event over %d bytes", maxMessageBytes)
			}
			continue
		}
		if long != nil {
			line, long = append(long, line...), nil
		}
		if err != nil && len(line) == 0 {
			return "", nil, err
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) == 0 {
			if hasData {
				return event, r.data, nil
			}
			event = ""
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			event = string(value)
		case "data":
			if hasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			hasData = true
			if len(r.data) > maxMessageBytes {
				return "", nil, fmt.Errorf("event over %d bytes", maxMessageBytes)
			}
		}
		if err != nil {
			return "", nil, err
		}
	}
}
