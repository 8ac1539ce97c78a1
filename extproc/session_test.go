package extproc

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// One request's result arriving on several GET streams of its session at
// once (a client resuming twice, a server replaying) is owned by exactly one
// of them: the others match it by shape, with contexts of their own. Sharing
// the request's contexts between streams was a data race (run with -race).
func TestConcurrentGETStreamsDoNotShareARequest(t *testing.T) {
	h := recorderHarness(t)
	st := h.open(buffered, buffered)
	postRequest(t, st, toolCallBody("42", "read_diary", `{}`), "mcp-session-id", "sess-R")
	st.close()
	waitFor(t, func() bool { return h.srv.sessions.Len() > 0 })

	event := "data: {\"jsonrpc\":\"2.0\",\"id\":42,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"my SECRET\"}]}}\n\n"
	const streams = 8
	outs := make([]string, streams)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range streams {
		get := h.open(buffered, buffered)
		get.roundTrip(reqHeaders(true, ":method", "GET", ":path", "/mcp", "mcp-session-id", "sess-R"))
		get.roundTrip(respHeaders("content-type", "text/event-stream"))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			get.send(respBody(event, false))
			r, err := get.s.Recv()
			if err != nil {
				t.Error(err)
				return
			}
			if b, ok := mutatedBodyOf(r); ok {
				outs[i] = b
			}
		}()
	}
	close(start)
	wg.Wait()
	owners := 0
	for i := 0; i < streams; i++ {
		if !strings.Contains(outs[i], "my ******") {
			t.Errorf("stream %d: result not masked: %q", i, outs[i])
		}
		select {
		case got := <-recorded:
			if got == "read_diary|read_diary" {
				owners++
			}
		case <-time.After(5 * time.Second):
			t.Fatal("post hook did not run on every stream")
		}
	}
	if owners != 1 {
		t.Fatalf("%d streams ran the post hook with the request's name and contexts, want exactly 1", owners)
	}
	if n := h.srv.sessions.Len(); n != 0 {
		t.Fatalf("the delivered request is still in the session table (%d entries)", n)
	}
}

// A result delivered on its own stream drops the request from the table:
// entries live only until their result is delivered.
func TestDeliveredResultLeavesNoSessionEntry(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	for i := range 50 {
		st := h.open(buffered, buffered)
		id := strings.Repeat("1", 1) + string(rune('0'+i%10))
		postRequest(t, st, toolCallBody(id, "read_notes", `{}`), "mcp-session-id", "s")
		jsonResponse(t, st, `{"jsonrpc":"2.0","id":`+id+`,"result":{"content":[]}}`)
		st.close()
	}
	if n := h.srv.sessions.Len(); n != 0 {
		t.Fatalf("%d session entries after every result was delivered, want 0", n)
	}
}

func TestSessionTableTakeExpiryAndBounds(t *testing.T) {
	now := time.Unix(1000, 0)
	tbl := NewSessionTable(time.Minute, time.Minute, 64*2)
	tbl.now = func() time.Time { return now }
	a := &mcpCall{hook: "tool_post_invoke", name: "a"}
	tbl.Put("s", "1", a)
	if c, ok := tbl.Take("s", "1"); !ok || c != a {
		t.Fatal("Take did not hand over the call")
	}
	if _, ok := tbl.Take("s", "1"); ok || tbl.Len() != 0 {
		t.Fatal("a call was handed over twice")
	}
	// Reusing a live id for another target makes it ambiguous until expiry.
	tbl.Put("s", "2", &mcpCall{hook: "tool_post_invoke", name: "x"})
	tbl.Put("s", "2", &mcpCall{hook: "tool_post_invoke", name: "y"})
	if _, ok := tbl.Take("s", "2"); ok || !tbl.Ambiguous("s", "2") {
		t.Fatal("an ambiguous id was handed over")
	}
	now = now.Add(2 * time.Minute)
	tbl.Sweep()
	if tbl.Len() != 0 {
		t.Fatalf("%d entries after expiry", tbl.Len())
	}
	// Expired entries are not handed over even before a sweep.
	tbl.Put("s", "3", &mcpCall{})
	now = now.Add(2 * time.Minute)
	if _, ok := tbl.Take("s", "3"); ok {
		t.Fatal("an expired call was handed over")
	}
	// The bound holds.
	for i := range 10000 {
		tbl.Put("s", strings.Repeat("k", 1+i%7)+string(rune(i)), &mcpCall{})
	}
	if n := tbl.Len(); n > 64*2 {
		t.Fatalf("%d entries, bound is %d", n, 64*2)
	}
}

// A reload applies plugin_settings.context_*: on main the table kept the
// limits it was built with until a restart, though the reload said nothing.
func TestReloadAppliesSessionSettings(t *testing.T) {
	load := func(src string) *framework.Config {
		t.Helper()
		cfg, _, err := framework.Parse([]byte(src), "policy.yaml", framework.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	srv, err := NewServer(context.Background(), load("plugin_settings:\n  context_max_entries: 100000\n  context_max_age: 1h\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	tbl := srv.Sessions()
	now := time.Unix(1000, 0)
	tbl.now = func() time.Time { return now }
	for i := range 1000 {
		tbl.Put("s", strconv.Itoa(i), &mcpCall{})
	}
	if tbl.Len() != 1000 {
		t.Fatalf("%d entries before the reload", tbl.Len())
	}
	if err := srv.Reload(context.Background(), load("plugin_settings:\n  context_max_entries: 64\n  context_max_age: 1m\n  context_cleanup_interval: 1s\n")); err != nil {
		t.Fatal(err)
	}
	if n := tbl.Len(); n > 64 {
		t.Fatalf("%d entries after reloading with context_max_entries: 64", n)
	}
	if got := time.Duration(tbl.interval.Load()); got != time.Second {
		t.Fatalf("sweep interval %s after the reload, want 1s", got)
	}
	tbl.Put("s", "new", &mcpCall{})
	now = now.Add(2 * time.Minute) // past the new max age, well within the old one
	if _, ok := tbl.Take("s", "new"); ok {
		t.Fatal("an entry outlived the reloaded context_max_age")
	}
}
