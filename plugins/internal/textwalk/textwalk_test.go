package textwalk

import (
	"context"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

func TestWalkVisitsText(t *testing.T) {
	raw := `{"content":[{"type":"text","text":"hello there"},` +
		`{"type":"image","data":"aGVsbG8gdGhlcmU=","mimeType":"image/png"},` +
		`{"type":"resource","resource":{"uri":"file:///a","blob":"aGVsbG8gdGhlcmU="}}],` +
		`"structuredContent":{"data":"not base64 here","n":"ab"}}`
	var seen []string
	out, changed, err := Walk(context.Background(), nil, "kind", Result, []byte(raw), 3, func(path mcpparse.Path, s string) (string, bool) {
		seen = append(seen, path.String())
		if s == "hello there" {
			return "HELLO", true
		}
		return "", false
	})
	if err != nil || !changed {
		t.Fatalf("changed %v, err %v", changed, err)
	}
	// "ab" is too short, the image data and the blob are binary; "text",
	// "image", "resource" and the URI are visited like any other string.
	want := []string{"$.content[0].type", "$.content[0].text", "$.content[1].type", "$.content[1].mimeType",
		"$.content[2].type", "$.content[2].resource.uri", "$.structuredContent.data"}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Fatalf("visited %q\nwant    %q", seen, want)
	}
	if !strings.Contains(string(out), `"text":"HELLO"`) || !strings.Contains(string(out), `"data":"aGVsbG8gdGhlcmU="`) {
		t.Fatalf("out = %s", out)
	}
}

func TestWalkErrors(t *testing.T) {
	visit := func(mcpparse.Path, string) (string, bool) { return "", false }
	_, _, err := Walk(context.Background(), nil, "pii_filter", Arguments, []byte(`{"a":`), 1, visit)
	if err == nil || !strings.HasPrefix(err.Error(), "pii_filter: ") {
		t.Fatalf("malformed JSON: err = %v", err)
	}

	// A cancelled walk stops visiting within ctxCheckBytes of text and
	// returns ctx's error as it is.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	big := `["` + strings.Repeat("x", 4096) + `"` + strings.Repeat(`,"`+strings.Repeat("x", 4096)+`"`, 199) + `]`
	visits := 0
	out, changed, err := Walk(ctx, nil, "pii_filter", Arguments, []byte(big), 1, func(mcpparse.Path, string) (string, bool) {
		visits++
		return "y", true
	})
	if err != context.Canceled || out != nil || changed {
		t.Fatalf("cancelled walk: out %d bytes, changed %v, err %v", len(out), changed, err)
	}
	if visits == 0 || visits*4096 > ctxCheckBytes {
		t.Fatalf("%d strings visited after cancellation", visits)
	}
}

func TestBinaryOnlyInResults(t *testing.T) {
	raw := `{"content":[{"type":"image","data":"xxxx"},{"type":"text","text":"tttt","data":"dddd"}],` +
		`"structuredContent":{"blob":"bbbb","data":"dddd"},"contents":[{"uri":"a:b","blob":"bbbb"}]}`
	walked := func(v Value) string {
		var paths []string
		_, _, err := Walk(context.Background(), nil, "test", v, []byte(raw), 1, func(path mcpparse.Path, _ string) (string, bool) {
			if path[len(path)-1].Key != "uri" && path[len(path)-1].Key != "type" {
				paths = append(paths, path.String())
			}
			return "", false
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(paths, " ")
	}
	if got, want := walked(Result), "$.content[1].text $.content[1].data $.structuredContent.blob $.structuredContent.data"; got != want {
		t.Errorf("result walk: %q, want %q", got, want)
	}
	// Arguments shaped like a result are still the caller's text.
	if got, want := walked(Arguments), "$.content[0].data $.content[1].text $.content[1].data $.structuredContent.blob $.structuredContent.data $.contents[0].blob"; got != want {
		t.Errorf("arguments walk: %q, want %q", got, want)
	}
}
