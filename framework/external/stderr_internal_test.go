package external

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
)

// Lines split across writes are joined, several lines in one write are
// split, and an endless line is cut into bounded records.
func TestStderrLogLines(t *testing.T) {
	var logs bytes.Buffer
	w := newStderrLog(slog.New(slog.NewJSONHandler(&logs, nil)).With("plugin", "p"))
	for _, chunk := range []string{"Trace", "back (most recent call last):\n  File \"x.py\"\n\nerror: boom\r\n", strings.Repeat("x", maxStderrLine+10) + "\n"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	var lines, levels []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var r struct{ Msg, Level, Line, Plugin string }
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Msg != "plugin server stderr" || r.Plugin != "p" {
			t.Fatalf("log line %q (%v)", l, err)
		}
		lines, levels = append(lines, r.Line), append(levels, r.Level)
	}
	wantLines := []string{"Traceback (most recent call last):", `  File "x.py"`, "error: boom", strings.Repeat("x", maxStderrLine), "xxxxxxxxxx"}
	wantLevels := []string{"WARN", "INFO", "WARN", "INFO", "INFO"}
	if strings.Join(lines, "|") != strings.Join(wantLines, "|") || strings.Join(levels, ",") != strings.Join(wantLevels, ",") {
		for i := range lines {
			if len(lines[i]) > 80 {
				lines[i] = lines[i][:40] + "…" + strconv.Itoa(len(lines[i]))
			}
		}
		t.Fatalf("records %q at %v, want %d records at %v", lines, levels, len(wantLines), wantLevels)
	}
}
