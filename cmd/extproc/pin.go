package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
	toolpin "github.com/mcp-extproc/mcp-extproc/plugins/tool_pin"
)

// cmdPin writes a tool_pin lockfile: the fingerprints of a server's tools,
// from a saved tools/list result or from the server itself.
func cmdPin(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pin", stderr)
	from := fs.String("from", "", "a saved tools/list result or JSON-RPC response (\"-\" reads standard input)")
	upstream := fs.String("upstream", "", "URL of an MCP server (Streamable HTTP) to list the tools of, every page")
	out := fs.String("out", "", "lockfile to write (required); an existing one keeps its other servers' entries")
	serverID := fs.String("server-id", toolpin.AnyServer, "server id the pins are for (mcp.identity.server_id_header); \"*\" for any server")
	timeout := fs.Duration("timeout", 30*time.Second, "time allowed for --upstream")
	setUsage(fs, "pin (--from FILE | --upstream URL) --out pins.yaml [--server-id ID]",
		`Write a tool_pin lockfile (plugins/tool_pin/README.md).

Each tool's fingerprint is the hex SHA-256 of the RFC 8785 canonical JSON of its
name, title, description, inputSchema, outputSchema and annotations. The entry of
the server id is replaced; other servers' entries in an existing --out are kept.`)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if (*from == "") == (*upstream == "") || *out == "" || *serverID == "" {
		fmt.Fprintln(stderr, "extproc pin: give --out and exactly one of --from FILE or --upstream URL (and a non-empty --server-id)")
		return errUsage
	}
	var pages [][]byte
	var err error
	if *from != "" {
		pages, err = pagesFromFile(*from)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		pages, err = pagesFromUpstream(ctx, *upstream)
	}
	if err != nil {
		return err
	}
	lf := &toolpin.Lockfile{Version: 1}
	if b, err := os.ReadFile(*out); err == nil {
		if lf, err = toolpin.ParseLockfile(b); err != nil {
			return fmt.Errorf("%s: %w (remove it or fix it)", *out, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	delete(lf.Servers, *serverID)
	n := 0
	for _, tools := range pages {
		if err := lf.Pin(*serverID, tools); err != nil {
			return err
		}
		n += int(gjson.ParseBytes(tools).Get("#").Int())
	}
	if n == 0 {
		lf.Servers[*serverID] = toolpin.ServerPins{Tools: map[string]string{}}
	}
	b, err := lf.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pinned %d tools for server %q in %s\n", len(lf.Servers[*serverID].Tools), *serverID, *out)
	return nil
}

func pagesFromFile(path string) ([][]byte, error) {
	var (
		b   []byte
		err error
	)
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	tools, err := toolpin.ToolsOf(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return [][]byte{tools}, nil
}

// pagesFromUpstream connects to the server with the official Go MCP SDK
// client and pages through tools/list. The fingerprints are computed from
// the tools as the server sent them, not as the SDK re-encodes them (which
// drops members it does not model and false hints): the HTTP client keeps a
// copy of every tools/list result it receives.
func pagesFromUpstream(ctx context.Context, upstream string) ([][]byte, error) {
	if u, err := url.Parse(upstream); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--upstream %q: want an http(s) URL of the MCP endpoint", upstream)
	}
	capture := &toolsCapture{base: http.DefaultTransport}
	client := mcp.NewClient(&mcp.Implementation{Name: "extproc-pin", Version: version}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: upstream, HTTPClient: &http.Client{Transport: capture}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", upstream, err)
	}
	defer cs.Close()
	var pages [][]byte
	cursor := ""
	for page := 0; ; page++ {
		if page >= 1000 {
			return nil, errors.New("tools/list: more than 1000 pages; giving up")
		}
		capture.reset()
		res, err := cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
		if err != nil {
			return nil, fmt.Errorf("tools/list: %w", err)
		}
		raw := capture.last()
		if raw == nil || gjson.GetBytes(raw, "#").Int() != int64(len(res.Tools)) {
			return nil, errors.New("tools/list: the result as sent could not be read back from the response")
		}
		pages = append(pages, raw)
		if res.NextCursor == "" {
			return pages, nil
		}
		if res.NextCursor == cursor {
			return nil, fmt.Errorf("tools/list: the server returned the same cursor %q twice", cursor)
		}
		cursor = res.NextCursor
	}
}

// toolsCapture is an http.RoundTripper that reads each response body as the
// SDK reads it (JSON, or SSE events) and keeps the last tools/list result's
// tools array, byte for byte.
type toolsCapture struct {
	base  http.RoundTripper
	mu    sync.Mutex
	tools []byte
}

func (c *toolsCapture) reset() { c.mu.Lock(); c.tools = nil; c.mu.Unlock() }

func (c *toolsCapture) last() []byte { c.mu.Lock(); defer c.mu.Unlock(); return c.tools }

func (c *toolsCapture) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	resp.Body = &captureBody{ReadCloser: resp.Body, c: c, sse: mt == "text/event-stream"}
	return resp, nil
}

func (c *toolsCapture) message(b []byte) {
	r := gjson.ParseBytes(b)
	if t := r.Get("result.tools"); t.IsArray() {
		c.mu.Lock()
		c.tools = []byte(t.Raw)
		c.mu.Unlock()
	}
}

type captureBody struct {
	io.ReadCloser
	c    *toolsCapture
	sse  bool
	dec  *mcpparse.SSEDecoder
	buf  bytes.Buffer
	done bool
}

func (b *captureBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.sse {
		if b.dec == nil {
			b.dec = mcpparse.NewSSEDecoder()
		}
		for _, ev := range b.dec.Feed(bytes.Clone(p[:n])) {
			b.c.message([]byte(ev.JSONData()))
		}
	} else {
		b.buf.Write(p[:n])
		if err == io.EOF && !b.done {
			b.done = true
			b.c.message(b.buf.Bytes())
		}
	}
	return n, err
}
