package external_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// syncBuffer is a log sink that the stderr copier and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// records decodes the JSON log lines that mention msg.
func (s *syncBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("a log line is not JSON: %q", line)
		}
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// A STDIO plugin server's stderr reaches the log as JSON records, one per
// line, with the plugin's name and a level; on main each write of the pipe
// became one record, partial lines and several lines alike, all at info.
func TestStdioStderrBecomesRecords(t *testing.T) {
	var logs syncBuffer
	cfg, _, err := framework.Parse([]byte(externalPolicy(stdioMCP(t), "keyword")), "client.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := framework.NewManager(context.Background(), cfg, framework.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	if v := pre(m, `{"text":"stderr-now"}`); v.blocked {
		t.Fatalf("blocked: %+v", v)
	}
	want := []struct{ level, line string }{
		{"INFO", "checking the arguments"},
		{"WARN", "WARNING: the deny list is empty"},
		{"INFO", "done, no news"}, // logged once the stream has been quiet
	}
	deadline := time.Now().Add(10 * time.Second)
	var got []map[string]any
	for time.Now().Before(deadline) {
		if got = logs.records(t, "plugin server stderr"); len(got) >= len(want) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(got) != len(want) {
		t.Fatalf("%d stderr records, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i]["level"] != w.level || got[i]["line"] != w.line || got[i]["plugin"] != "keyword" {
			t.Errorf("record %d = %v, want level %s, line %q, plugin keyword", i, got[i], w.level, w.line)
		}
	}
}
