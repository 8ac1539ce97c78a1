package external

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// The plugin server's side of MCP over STDIO and Streamable HTTP: the
// methods a plugin client uses (initialize, ping, tools/list, tools/call),
// answered without the SDK's session layer, as the client does. The legacy
// SSE transport (/sse) is still served by the SDK.

// toolHandler runs one tool on its JSON arguments and returns the JSON text
// of its answer.
type toolHandler func(ctx context.Context, args json.RawMessage) ([]byte, error)

// serverVersions are the MCP protocol versions the server speaks, newest
// first; a client asking for another gets the first.
var serverVersions = protocolVersions

// maxInFlight bounds the requests one STDIO client has running at once;
// past it the server stops reading until one finishes.
const maxInFlight = 256

// answer writes the response to a request into b.
func (s *Server) answer(ctx context.Context, msg *rpcMessage, b *bytes.Buffer) {
	switch msg.Method {
	case "initialize":
		var p struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		_ = json.Unmarshal(msg.Params, &p)
		v := serverVersions[0]
		if slices.Contains(serverVersions, p.ProtocolVersion) {
			v = p.ProtocolVersion
		}
		appendResponse(b, msg.ID, []byte(`{"protocolVersion":"`+v+`","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"mcp-extproc-plugin-server","version":"1"}}`), nil)
	case "ping":
		appendResponse(b, msg.ID, []byte("{}"), nil)
	case "tools/list":
		appendResponse(b, msg.ID, s.toolList, nil)
	case "tools/call":
		// params is valid JSON (sliced from a validated message).
		params := parseRaw(msg.Params)
		name, args := params.Get("name"), params.Get("arguments")
		if !params.IsObject() || name.Type != gjson.String || (args.Exists() && !args.IsObject()) {
			appendResponse(b, msg.ID, nil, &rpcError{Code: codeInvalidParams, Message: "tools/call params must be {name, arguments}"})
			return
		}
		p := toolCallParams{Name: name.Str}
		if args.Exists() {
			p.Arguments = msg.Params[args.Index : args.Index+len(args.Raw)]
		}
		h := s.tools[p.Name]
		if h == nil {
			appendResponse(b, msg.ID, nil, &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("unknown tool %q", p.Name)})
			return
		}
		text, err := h(ctx, p.Arguments)
		if err != nil {
			appendResponse(b, msg.ID, nil, &rpcError{Code: -32603, Message: err.Error()})
			return
		}
		b.WriteString(`{"jsonrpc":"2.0","id":`)
		b.Write(msg.ID)
		b.WriteString(`,"result":{"content":[{"type":"text","text":`)
		appendJSONString(b, text)
		b.WriteString(`}]}}`)
	default:
		appendResponse(b, msg.ID, nil, &rpcError{Code: codeMethodNotFound, Message: "method not found: " + msg.Method})
	}
}

// appendJSONString writes s (UTF-8) as a JSON string, escaping only what
// JSON requires (and U+2028/U+2029, as encoding/json does).
func appendJSONString(b *bytes.Buffer, s []byte) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b.Write(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b.Write(s[start:i])
			if r == utf8.RuneError {
				b.WriteString(`\ufffd`)
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b.Write(s[start:])
	b.WriteByte('"')
}

// parseMessage reads one message (aliasing data); a batch or a message
// that is not JSON-RPC 2.0 is an error to answer.
func parseMessage(data []byte, msg *rpcMessage) *rpcError {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		return &rpcError{Code: codeInvalidRequest, Message: "JSON-RPC batches are not supported (MCP 2025-06-18 removed them)"}
	}
	if err := decodeMessage(data, msg); err != nil {
		return &rpcError{Code: codeParseError, Message: "not JSON-RPC: " + err.Error()}
	}
	if msg.JSONRPC != "2.0" {
		return &rpcError{Code: codeInvalidRequest, Message: `jsonrpc must be "2.0"`}
	}
	return nil
}

// Serve serves one client over r and w (a STDIO server's stdin and
// stdout): newline-delimited JSON-RPC, each request answered as soon as it
// is done, so a client may have many in flight. It returns when r ends
// (nil) or ctx does, having written the answers of the requests it read.
func (s *Server) Serve(ctx context.Context, r io.Reader, w io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		failed   = make(chan struct{})
		failOnce sync.Once
		writeErr error
	)
	fail := func(err error) {
		failOnce.Do(func() { writeErr = err; close(failed) })
	}
	pw := newPipeWriter(w, failed, fail, func() error { return writeErr })
	var (
		wg       sync.WaitGroup
		sem      = make(chan struct{}, maxInFlight)
		mu       sync.Mutex
		inFlight = map[string]context.CancelFunc{}
		stopped  bool // under mu: no more sends
	)
	handle := func(line []byte) {
		if len(bytes.TrimSpace(line)) == 0 {
			return
		}
		mu.Lock()
		if stopped {
			mu.Unlock()
			return
		}
		wg.Add(1)
		mu.Unlock()
		defer wg.Done()
		// The line is bufio's; the message outlives it.
		line = bytes.Clone(line)
		var msg rpcMessage
		if rerr := parseMessage(line, &msg); rerr != nil {
			b := getBuf()
			appendResponse(b, msg.ID, nil, rerr)
			_ = pw.send(ctx, b)
			return
		}
		switch {
		case msg.isRequest():
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			rctx, rcancel := context.WithCancel(ctx)
			key := string(msg.ID)
			mu.Lock()
			inFlight[key] = rcancel
			wg.Add(1)
			mu.Unlock()
			go func() {
				defer wg.Done()
				b := getBuf()
				s.answer(rctx, &msg, b)
				mu.Lock()
				delete(inFlight, key)
				mu.Unlock()
				rcancel()
				_ = pw.send(ctx, b)
				<-sem
			}()
		case msg.isNotification() && msg.Method == "notifications/cancelled":
			var p struct {
				RequestID json.RawMessage `json:"requestId"`
			}
			if json.Unmarshal(msg.Params, &p) == nil {
				mu.Lock()
				c := inFlight[string(p.RequestID)]
				mu.Unlock()
				if c != nil {
					c()
				}
			}
		}
	}
	read := make(chan error, 1)
	go func() { read <- eachLine(r, handle) }()
	var err error
	select {
	case err = <-read:
		if errors.Is(err, io.EOF) {
			err = nil
		}
	case <-ctx.Done():
		err = ctx.Err()
	}
	// The client has gone or asked to stop: let the requests in flight
	// finish and write their answers (a hung plugin is bounded by its
	// timeout), then stop.
	mu.Lock()
	stopped = true
	mu.Unlock()
	wg.Wait()
	pw.drain()
	if err == nil {
		select {
		case <-failed:
			err = writeErr
		default:
		}
	}
	return err
}

// serveStreamable is the Streamable HTTP endpoint: each POST carries one
// message and a request is answered in the response body as JSON. The
// server keeps no session (MCP allows that: no Mcp-Session-Id is issued),
// so any replica can answer any call, and GET (a server-to-client stream)
// and DELETE are refused with 405.
func (s *Server) serveStreamable(w http.ResponseWriter, r *http.Request) {
	if rebinding(r) {
		http.Error(w, fmt.Sprintf("Forbidden: invalid Host header %q", r.Host), http.StatusForbidden)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "this server sends no server-to-client stream and keeps no session: POST only", http.StatusMethodNotAllowed)
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		http.Error(w, "Content-Type must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	if v := r.Header.Get("Mcp-Protocol-Version"); v != "" && !slices.Contains(serverVersions, v) {
		http.Error(w, fmt.Sprintf("unsupported MCP-Protocol-Version %q (supported: %s)", v, strings.Join(serverVersions, ", ")), http.StatusBadRequest)
		return
	}
	in := getBuf()
	defer putBuf(in)
	if _, err := in.ReadFrom(http.MaxBytesReader(w, r.Body, maxMessageBytes)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "message too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading the message: "+err.Error(), http.StatusBadRequest)
		return
	}
	out := getBuf()
	defer putBuf(out)
	var msg rpcMessage
	status := http.StatusOK
	switch rerr := parseMessage(in.Bytes(), &msg); {
	case rerr != nil:
		appendResponse(out, msg.ID, nil, rerr)
		status = http.StatusBadRequest
	case msg.isRequest():
		s.answer(r.Context(), &msg, out)
	default:
		// A notification or a response: accepted, nothing to answer.
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(out.Bytes())
}

// rebinding reports a request that reached a loopback address under a
// name that is not loopback: a browser page on another site, through DNS
// rebinding (as the MCP SDKs refuse).
func rebinding(r *http.Request) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok || local == nil {
		return false
	}
	return isLoopback(local.String()) && !isLoopback(r.Host)
}

func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
