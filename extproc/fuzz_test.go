package extproc

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// stamp replaces every tool result (and error) it sees with a marker, so
// that a result reaching a client unstamped is one the filter never saw.
type stamp struct{}

const stamped = `{"content":[{"type":"text","text":"stamped"}]}`

func (stamp) ReadsErrorResults() bool { return true }

func (stamp) ToolPostInvoke(_ context.Context, p *framework.ToolPostInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	out := json.RawMessage(stamped)
	if strings.HasPrefix(string(p.Result), `{"error":`) {
		out = json.RawMessage(`{"error":{"code":1,"message":"stamped"}}`)
	}
	return framework.Result[framework.ToolPostInvokePayload]{ModifiedPayload: &framework.ToolPostInvokePayload{Name: p.Name, Result: out}}, nil
}

// FuzzSSEResultsReachNoClientUnseen plays an event stream answering a
// tools/call (id 42) through the exchange, in fuzzed chunks, and reads what
// the client receives two ways: as a WHATWG reader (browsers, the TypeScript
// and Python SDKs) and as the Go SDK (lines split at LF only, data trimmed).
// Every JSON-RPC response to id 42 that either reading finds must be one the
// post hook saw (stamped) or the filter's own error.
func FuzzSSEResultsReachNoClientUnseen(f *testing.F) {
	res := `{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"raw"}]}}`
	for _, s := range []string{
		"data: " + res + "\n\n",
		"data:\r" + res + "\n\n",
		"data:\f" + res + "\n\n",
		"event: message \ndata: " + res + "\r\r",
		"data: x\r\rdata: " + res + "\n\n",
		": c\rdata: " + res + "\n\n",
		"data: {\"jsonrpc\":\"2.0\",\r\"id\":42,\"result\":{}}\n\n",
		"data: " + strings.Replace(res, `"id":42`, `"id":"42"`, 1) + "\n\n",
		"data: {\"jsonrpc\":\"2.0\",\"id\":42,\"error\":{\"code\":1,\"message\":\"raw\"}}\n\n",
	} {
		f.Add([]byte(s), []byte{5, 2})
	}
	reg := framework.NewRegistry()
	reg.Register(framework.Kind{Name: "stamp", Hooks: []framework.HookType{framework.ToolPostInvoke},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return stamp{}, nil }})
	cfg, _, err := framework.Parse([]byte("plugins:\n  - {name: stamp, kind: stamp}\n"), "fuzz.yaml", framework.LoadOptions{Registry: reg})
	if err != nil {
		f.Fatal(err)
	}
	srv, err := NewServer(context.Background(), cfg, Options{Metrics: NewMetrics(prometheus.NewRegistry()), Registry: reg})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = srv.Close(context.Background()) })

	f.Fuzz(func(t *testing.T, stream []byte, cuts []byte) {
		p := srv.acquire()
		defer srv.release(p)
		e := newExchange(srv, p, context.Background())
		req := toolCallBody("42", "t", `{}`)
		e.handle(postHeaders(len(req)))
		e.handle(reqBody(req, true))
		e.handle(respHeaders("content-type", "text/event-stream"))
		var out strings.Builder
		for i, pos := 0, 0; pos < len(stream) || i == 0; i++ {
			n := len(stream) - pos
			if len(cuts) > 0 {
				n = min(int(cuts[i%len(cuts)])%11+1, n)
			}
			chunk := stream[pos : pos+n]
			pos += n
			for _, r := range e.handle(respBody(string(chunk), pos >= len(stream))) {
				if body, ok := mutatedBodyOf(r); ok {
					out.WriteString(body)
				} else {
					out.Write(chunk)
				}
			}
		}
		got := out.String()
		for _, reading := range []struct {
			name string
			data []string
		}{{"WHATWG", whatwgData(got)}, {"Go SDK", goSDKEvents(got)}} {
			for _, d := range reading.data {
				checkStamped(t, reading.name, d, got)
			}
		}
	})
}

// checkStamped fails when data is a JSON-RPC response to id 42 that the
// post hook did not produce.
func checkStamped(t *testing.T, reader, data, stream string) {
	t.Helper()
	b, err := mcpparse.Parse([]byte(data), mcpparse.Options{AllowCaseVariantKeys: true})
	if err != nil {
		return // no client reads a message from it
	}
	for _, m := range b.Messages {
		if m.ID.CorrelationKey() != "42" {
			continue
		}
		switch {
		case m.Kind == mcpparse.KindResponse && string(m.Result.Bytes) == stamped:
		case m.Kind == mcpparse.KindError && (strings.Contains(string(m.Error.Bytes), "stamped") || strings.Contains(string(m.Error.Bytes), "UNINSPECTABLE_RESPONSE")):
		case m.Kind == mcpparse.KindResponse || m.Kind == mcpparse.KindError:
			t.Fatalf("a %s reader receives a response the filter did not see: %s\nstream out: %q", reader, data, stream)
		}
	}
}

// whatwgData is the data of every message event a WHATWG reader dispatches.
func whatwgData(stream string) []string {
	var out []string
	d := mcpparse.NewSSEDecoder()
	for _, ev := range append(d.Feed([]byte(stream)), d.Flush()...) {
		if ev.HasData && isMessageEvent(ev) {
			out = append(out, ev.Data)
		}
	}
	return out
}

// goSDKEvents reads a stream as the Go SDK's event scanner does: lines end
// at LF (trailing CR and LF trimmed), a blank line ends an event, fields
// are trimmed of white space, and events named other than message are
// ignored.
func goSDKEvents(stream string) []string {
	var out, data []string
	name, has := "", false
	flush := func() {
		if has && (name == "" || name == "message") {
			out = append(out, strings.Join(data, "\n"))
		}
		data, name, has = nil, "", false
	}
	for _, line := range strings.Split(stream, "\n") {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			flush()
			continue
		}
		field, value, ok := strings.Cut(line, ":")
		if !ok {
			break // the Go SDK stops reading at a malformed line
		}
		switch field {
		case "event":
			name = strings.TrimSpace(value)
		case "data":
			data, has = append(data, strings.TrimSpace(value)), true
		}
	}
	flush()
	return out
}

// mutatedBodyOf is mutatedBody without a test to fail: ok is false when r
// does not replace or clear its body.
func mutatedBodyOf(r *extprocv3.ProcessingResponse) (string, bool) {
	var c *extprocv3.CommonResponse
	switch x := r.Response.(type) {
	case *extprocv3.ProcessingResponse_RequestBody:
		c = x.RequestBody.GetResponse()
	case *extprocv3.ProcessingResponse_ResponseBody:
		c = x.ResponseBody.GetResponse()
	}
	switch m := c.GetBodyMutation().GetMutation().(type) {
	case *extprocv3.BodyMutation_Body:
		return string(m.Body), true
	case *extprocv3.BodyMutation_StreamedResponse:
		return string(m.StreamedResponse.GetBody()), true
	case *extprocv3.BodyMutation_ClearBody:
		return "", m.ClearBody
	}
	return "", false
}
