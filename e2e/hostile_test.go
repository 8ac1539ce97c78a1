package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// hostileServer is an MCP server written by hand, as an attacker controls
// the bytes of its answers: it initialises like any server, then answers
// each tools/call in the way the tool's name says — each a response the Go
// SDK client reads a result (or an error) from, framed so that a filter
// reading it differently from the client would let it through unmasked.
func hostileServer(t *testing.T) http.Handler {
	const ssn = "SSN 123-45-6789"
	result := func(id json.RawMessage, res string) string {
		return `{"jsonrpc":"2.0","id":` + string(id) + `,"result":` + res + `}`
	}
	textResult := `{"content":[{"type":"text","text":"` + ssn + `"}]}`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "no stream", http.StatusMethodNotAllowed)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params struct {
				Name            string `json:"name"`
				ProtocolVersion string `json:"protocolVersion"`
			} `json:"params"`
		}
		if err := json.Unmarshal(body, &msg); err != nil {
			t.Errorf("hostile server: %v", err)
			return
		}
		sse := func(stream string) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, stream)
		}
		js := func(b string) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, b)
		}
		switch msg.Method {
		case "initialize":
			js(result(msg.ID, `{"protocolVersion":"`+msg.Params.ProtocolVersion+`","capabilities":{"tools":{}},"serverInfo":{"name":"hostile","version":"1"}}`))
		case "tools/call":
			switch msg.Params.Name {
			case "bare_cr": // WHATWG readers see an empty event; the Go SDK reads the result
				sse("data:\r" + result(msg.ID, textResult) + "\n\n")
			case "form_feed": // the Go SDK trims the form feed off the data
				sse("data:\f" + result(msg.ID, textResult) + "\n\n")
			case "float_id": // the Go SDK correlates 7.0 with 7
				js(result(json.RawMessage(string(msg.ID)+".0"), textResult))
			case "error_message": // a tool's error message reaches the model
				js(`{"jsonrpc":"2.0","id":` + string(msg.ID) + `,"error":{"code":-32000,"message":"lookup failed for ` + ssn + `","data":{"row":"` + ssn + `"}}}`)
			case "blob_key": // "blob" in structuredContent is text, not binary
				js(result(msg.ID, `{"content":[],"structuredContent":{"blob":"`+ssn+`","data":"`+ssn+`"}}`))
			case "structured_only": // content is optional
				js(result(msg.ID, `{"structuredContent":{"note":"`+ssn+`"}}`))
			case "bom": // fetch's response.json() strips a BOM
				js("\xEF\xBB\xBF" + result(msg.ID, textResult))
			case "string_id": // the TS SDK looks the response up with Number(id)
				js(result(json.RawMessage(`"`+string(msg.ID)+`"`), textResult))
			case "joined_type": // a repeated content-type header, joined: the TS SDK sees "text/event-stream"
				w.Header().Set("Content-Type", "text/event-stream,application/json")
				_, _ = io.WriteString(w, "event: message\ndata: "+result(msg.ID, textResult)+"\n\n")
			case "cr_only": // WHATWG line endings: CR alone
				sse("event: message\rdata: " + result(msg.ID, textResult) + "\r\r")
			default:
				js(`{"jsonrpc":"2.0","id":` + string(msg.ID) + `,"error":{"code":-32601,"message":"no such tool"}}`)
			}
		default:
			if len(msg.ID) == 0 { // a notification
				w.WriteHeader(http.StatusAccepted)
				return
			}
			js(`{"jsonrpc":"2.0","id":` + string(msg.ID) + `,"error":{"code":-32601,"message":"method not found"}}`)
		}
	})
}

// A server's answers are read the way the Go SDK client reads them: none of
// the hostile framings gets an SSN past pii_filter to the client.
func TestHostileServerAnswersReadAsTheClientReadsThem(t *testing.T) {
	st := startStack(t, "mcp: {paths: [/mcp]}\nplugins:\n  - {name: pii, kind: pii_filter}\n", hostileServer(t))
	cs := connect(t, st.URL, nil)
	for _, tool := range []string{"bare_cr", "form_feed", "float_id", "error_message", "blob_key", "structured_only"} {
		t.Run(tool, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool})
			seen := fmt.Sprint(err)
			if res != nil {
				b, _ := json.Marshal(res)
				seen += string(b)
			}
			if strings.Contains(seen, "123-45-6789") {
				t.Fatalf("the client received the SSN: %s", seen)
			}
			// Where a client reads the result, it reads it masked.
			if tool != "bare_cr" && !strings.Contains(seen, "[REDACTED]") {
				t.Fatalf("the client received no masked result: %s", seen)
			}
			t.Logf("client received: %s", seen)
		})
	}
}

// The same for the TypeScript SDK client, with the framings it reads.
func TestHostileServerAnswersReadAsTheTypeScriptClientReadsThem(t *testing.T) {
	st := startStack(t, "mcp: {paths: [/mcp]}\nplugins:\n  - {name: pii, kind: pii_filter}\n", hostileServer(t))
	dir := nodeDir(t)
	tools := []string{"bom", "string_id", "joined_type", "cr_only", "error_message", "blob_key", "structured_only"}
	cmd := exec.Command("node", append([]string{filepath.Join(dir, "hostile.mjs"), st.URL + "/mcp"}, tools...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("client: %v\n%s\n%s", err, out, stderr)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("client output %q: %v", out, err)
	}
	for _, tool := range tools {
		seen := string(got[tool])
		if strings.Contains(seen, "123-45-6789") {
			t.Errorf("%s: the TypeScript client received the SSN: %s", tool, seen)
		} else if tool == "joined_type" && strings.Contains(seen, "Unexpected content type") {
			// SDK 1.32 refuses the joined type (the Python SDK reads it as
			// SSE: the filter reads it both ways, see extproc's tests).
		} else if !strings.Contains(seen, "[REDACTED]") {
			t.Errorf("%s: the TypeScript client received no masked result: %s", tool, seen)
		}
	}
}
