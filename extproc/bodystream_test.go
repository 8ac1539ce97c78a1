package extproc

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strconv"
	"strings"
	"testing"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// The body stream is tested without gRPC: each case plays body messages as
// Envoy sends them in one mode, and applies the answers as Envoy's filter
// does in that mode (envoyApplies), so that each case states what the peer
// receives — what a user would notice.

// envoyApplies returns the bytes Envoy forwards for one body message given
// the answer, in mode: the chunk itself (CONTINUE), nothing (cleared), the
// replacement, or in FULL_DUPLEX_STREAMED mode what the streamed_response
// carries (any other answer is a protocol error there).
func envoyApplies(t *testing.T, mode filterv3.ProcessingMode_BodySendMode, request bool, chunk []byte, r *extprocv3.ProcessingResponse) []byte {
	t.Helper()
	var common *extprocv3.CommonResponse
	switch x := r.Response.(type) {
	case *extprocv3.ProcessingResponse_RequestBody:
		if !request {
			t.Fatal("a request_body answer to a response body")
		}
		common = x.RequestBody.GetResponse()
	case *extprocv3.ProcessingResponse_ResponseBody:
		if request {
			t.Fatal("a response_body answer to a request body")
		}
		common = x.ResponseBody.GetResponse()
	default:
		t.Fatalf("answer %T to a body", r.Response)
	}
	bm := common.GetBodyMutation()
	if mode == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
		sr := bm.GetStreamedResponse()
		if sr == nil {
			t.Fatalf("FULL_DUPLEX_STREAMED answered without a streamed_response: %v", bm)
		}
		return sr.GetBody()
	}
	if bm.GetStreamedResponse() != nil {
		t.Fatalf("a streamed_response in %v mode", mode)
	}
	switch m := bm.GetMutation().(type) {
	case *extprocv3.BodyMutation_ClearBody:
		if m.ClearBody {
			return nil
		}
	case *extprocv3.BodyMutation_Body:
		if cl, ok := headerSet(common, "content-length"); ok && cl != strconv.Itoa(len(m.Body)) {
			t.Fatalf("content-length %s for a %d-byte body", cl, len(m.Body))
		}
		return m.Body
	}
	return chunk
}

// playWhole sends body (split into chunks as the mode allows) through s and
// returns what the peer receives. rewrite sees the complete decoded body
// and returns a replacement, or nil to keep it.
func playWhole(t *testing.T, s *bodyStream, chunks []string, rewrite func([]byte) []byte) (string, []*extprocv3.ProcessingResponse, error) {
	t.Helper()
	var fwd bytes.Buffer
	var answers []*extprocv3.ProcessingResponse
	for i, c := range chunks {
		b := &extprocv3.HttpBody{Body: []byte(c), EndOfStream: i == len(chunks)-1}
		answer, whole, err := s.add(b)
		if err != nil {
			return fwd.String(), answers, err
		}
		if whole {
			raw := s.raw()
			body, err := s.decode(raw)
			if err != nil {
				return fwd.String(), answers, err
			}
			if nb := rewrite(body); nb != nil {
				answer = s.replace(nb, nil)
			} else {
				answer = s.pass(raw, nil)
			}
		}
		if answer == nil {
			if s.mode != filterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
				t.Fatalf("chunk %d unanswered in %v mode", i, s.mode)
			}
			continue
		}
		answers = append(answers, answer)
		fwd.Write(envoyApplies(t, s.mode, s.request, b.Body, answer))
	}
	return fwd.String(), answers, nil
}

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// split cuts s into n nearly equal chunks.
func split(s string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, s[i*len(s)/n:(i+1)*len(s)/n])
	}
	return out
}

func TestBodyStreamWholeBodyEveryMode(t *testing.T) {
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"q":"SECRET","pad":"` + strings.Repeat("lorem ipsum ", 40) + `"}}}`
	masked := strings.Replace(body, "SECRET", "******", 1)
	mask := func(b []byte) []byte {
		if !bytes.Contains(b, []byte("SECRET")) {
			return nil
		}
		return bytes.ReplaceAll(b, []byte("SECRET"), []byte("******"))
	}
	keep := func([]byte) []byte { return nil }
	type mode = filterv3.ProcessingMode_BodySendMode
	modes := []struct {
		mode   mode
		chunks int // how many messages Envoy sends the body in
	}{
		{filterv3.ProcessingMode_BUFFERED, 1},
		{filterv3.ProcessingMode_BUFFERED_PARTIAL, 1}, // it fits Envoy's buffer
		{filterv3.ProcessingMode_STREAMED, 3},
		{filterv3.ProcessingMode_FULL_DUPLEX_STREAMED, 3},
	}
	for _, request := range []bool{true, false} {
		for _, m := range modes {
			name := m.mode.String() + map[bool]string{true: "/request", false: "/response"}[request]
			t.Run(name, func(t *testing.T) {
				newStream := func(coding string) *bodyStream {
					s := newBodyStream(request)
					s.mode = m.mode
					if err := s.readWhole(coding, 1<<20); err != nil {
						t.Fatal(err)
					}
					return &s
				}
				// Unchanged: the peer gets the body as it was sent.
				got, answers, err := playWhole(t, newStream(""), split(body, m.chunks), keep)
				if err != nil || got != body {
					t.Fatalf("unchanged body forwarded as %q (%v)", got, err)
				}
				if m.mode == filterv3.ProcessingMode_BUFFERED && commonOf(t, answers[0]).GetBodyMutation() != nil {
					t.Fatal("an unchanged BUFFERED body must be answered with CONTINUE, not a copy")
				}
				// Rewritten: the peer gets the new body, never the old one.
				got, _, err = playWhole(t, newStream(""), split(body, m.chunks), mask)
				if err != nil || got != masked {
					t.Fatalf("rewritten body forwarded as %q (%v)", got, err)
				}
				// Coded: read decoded; unchanged it goes on as it came.
				// Rewritten in BUFFERED mode it goes on plain, without its
				// content-encoding; in the streamed modes the headers have
				// left (Envoy ignores header changes there), so it goes on
				// coded again and the peer decodes the new body.
				gz := gzipped(t, body)
				got, _, err = playWhole(t, newStream("gzip"), split(gz, m.chunks), keep)
				if err != nil || got != gz {
					t.Fatalf("unchanged gzip body forwarded as %q (%v)", got, err)
				}
				got, answers, err = playWhole(t, newStream("gzip"), split(gz, m.chunks), mask)
				last := commonOf(t, answers[len(answers)-1])
				if m.mode == filterv3.ProcessingMode_STREAMED || m.mode == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
					plain, derr := mcpparse.DecodeContent("gzip", []byte(got), 1<<20)
					if err != nil || derr != nil || string(plain) != masked {
						t.Fatalf("rewritten gzip body forwarded as %q, decodes to %q (%v, %v)", got, plain, err, derr)
					}
					if headerRemoved(last, "content-encoding") {
						t.Fatal("a streamed body's content-encoding cannot be removed: Envoy ignores it")
					}
				} else {
					if err != nil || got != masked {
						t.Fatalf("rewritten gzip body forwarded as %q (%v)", got, err)
					}
					if !headerRemoved(last, "content-encoding") {
						t.Fatal("a body forwarded decoded keeps its content-encoding")
					}
				}
				// Over the limit: refused, whatever the chunking.
				s := newStream("")
				s.limit = len(body) - 1
				if _, _, err := playWhole(t, s, split(body, m.chunks), keep); !errors.Is(err, errBodyTooLarge) {
					t.Fatalf("a body over the limit: %v", err)
				}
				// Decoded over the limit: a decompression bomb is refused.
				s = newStream("gzip")
				s.limit = len(gz)
				if _, _, err := playWhole(t, s, split(gz, m.chunks), keep); !errors.Is(err, mcpparse.ErrTooLarge) {
					t.Fatalf("a body that decodes past the limit: %v", err)
				}
			})
		}
	}
}

// BUFFERED_PARTIAL sends a first message without end_of_stream when the
// body does not fit Envoy's buffer: the rest would pass uninspected.
func TestBodyStreamPartialBufferRefused(t *testing.T) {
	s := newBodyStream(true)
	s.mode = filterv3.ProcessingMode_BUFFERED_PARTIAL
	_ = s.readWhole("", 1<<20)
	if _, _, err := s.add(&extprocv3.HttpBody{Body: []byte(`{"jsonrpc"`)}); !errors.Is(err, errPartialBody) {
		t.Fatalf("partial body: %v", err)
	}
}

// Envoy sends a BUFFERED body as one message, with end_of_stream false
// when trailers ended it: that message is the whole body.
func TestBodyStreamBufferedEndedByTrailers(t *testing.T) {
	for _, request := range []bool{true, false} {
		s := newBodyStream(request)
		_ = s.readWhole("", 1<<20)
		answer, whole, err := s.add(&extprocv3.HttpBody{Body: []byte(`{"jsonrpc":"2.0"}`)})
		if !whole || answer != nil || err != nil {
			t.Fatalf("request %v: a BUFFERED body without end_of_stream was not read whole (answer %v, %v)", request, answer, err)
		}
		if got := string(s.raw()); got != `{"jsonrpc":"2.0"}` {
			t.Fatalf("body %q", got)
		}
	}
}

// A body that is not read passes as it is, in every mode.
func TestBodyStreamUnreadPasses(t *testing.T) {
	for _, m := range []filterv3.ProcessingMode_BodySendMode{filterv3.ProcessingMode_NONE, filterv3.ProcessingMode_BUFFERED,
		filterv3.ProcessingMode_STREAMED, filterv3.ProcessingMode_FULL_DUPLEX_STREAMED} {
		s := newBodyStream(false)
		s.mode = m
		var fwd bytes.Buffer
		for i, c := range []string{"any ", "bytes ", "at all"} {
			b := &extprocv3.HttpBody{Body: []byte(c), EndOfStream: i == 2}
			answer, whole, err := s.add(b)
			if whole || err != nil || answer == nil {
				t.Fatalf("%v: an unread body was held (%v, %v)", m, whole, err)
			}
			fwd.Write(envoyApplies(t, m, false, b.Body, answer))
		}
		if fwd.String() != "any bytes at all" {
			t.Fatalf("%v: forwarded %q", m, fwd.String())
		}
	}
}

func TestBodyStreamRefusesUnreadableCodings(t *testing.T) {
	s := newBodyStream(true)
	if err := s.readWhole("br", 1<<20); !errors.Is(err, errUnknownCoding) {
		t.Fatalf("br: %v", err)
	}
	s = newBodyStream(false)
	if err := s.readEvents("gzip", 1<<20); !errors.Is(err, errCodedEvents) {
		t.Fatalf("compressed event stream: %v", err)
	}
}

// playEvents sends stream in the given chunks and returns what the client
// receives, with each event's data upper-cased when it holds "secret".
func playEvents(t *testing.T, s *bodyStream, chunks []string) string {
	t.Helper()
	var fwd bytes.Buffer
	for i, c := range chunks {
		b := &extprocv3.HttpBody{Body: []byte(c), EndOfStream: i == len(chunks)-1}
		evs, err := s.nextEvents(b)
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		var out bytes.Buffer
		for _, ev := range evs {
			if strings.Contains(ev.Data, "secret") {
				ev.Data = strings.ToUpper(ev.Data)
				out.Write(mcpparse.EncodeEvent(ev))
			} else {
				out.Write(ev.Raw)
			}
		}
		fwd.Write(envoyApplies(t, s.mode, false, b.Body, s.answerEvents(b, out.Bytes())))
	}
	return fwd.String()
}

func TestBodyStreamEventsEveryBoundary(t *testing.T) {
	stream := "id: 1\ndata: progress\n\n: keep-alive\n\nevent: message\ndata: a secret\n\ndata: tail without end"
	want := strings.Replace(stream, "data: a secret\n\n", "data: A SECRET\n\n", 1)
	for cut := 0; cut <= len(stream); cut++ {
		s := newBodyStream(false)
		if err := s.readEvents("", 1<<20); err != nil {
			t.Fatal(err)
		}
		if s.mode != filterv3.ProcessingMode_STREAMED {
			t.Fatalf("an event stream is read in %v mode", s.mode)
		}
		if got := playEvents(t, &s, []string{stream[:cut], stream[cut:]}); got != want {
			t.Fatalf("cut at %d: the client receives\n%q\nwant\n%q", cut, got, want)
		}
	}
}

// An incomplete event is held back, not forwarded piecemeal; an event that
// grows past the limit is an error, and once the stream was ended nothing
// more reaches the client.
func TestBodyStreamEventLimitAndEnd(t *testing.T) {
	s := newBodyStream(false)
	_ = s.readEvents("", 64)
	b := &extprocv3.HttpBody{Body: []byte("data: " + strings.Repeat("x", 40))}
	evs, err := s.nextEvents(b)
	if err != nil || len(evs) != 0 {
		t.Fatalf("a partial event: %v %v", evs, err)
	}
	if got := envoyApplies(t, s.mode, false, b.Body, s.answerEvents(b, nil)); len(got) != 0 {
		t.Fatalf("a partial event was forwarded: %q", got)
	}
	if _, err := s.nextEvents(&extprocv3.HttpBody{Body: []byte(strings.Repeat("y", 40))}); !errors.Is(err, errEventTooLarge) {
		t.Fatalf("an event past the limit: %v", err)
	}
	end := envoyApplies(t, s.mode, false, nil, s.endEvents([]byte("data: error\n\n")))
	if string(end) != "data: error\n\n" {
		t.Fatalf("the ending chunk is %q", end)
	}
	for range 3 {
		b := &extprocv3.HttpBody{Body: []byte("data: more\n\n")}
		evs, err := s.nextEvents(b)
		if len(evs) != 0 || err != nil {
			t.Fatalf("events after the end: %v %v", evs, err)
		}
		if got := envoyApplies(t, s.mode, false, b.Body, s.answerEvents(b, nil)); len(got) != 0 {
			t.Fatalf("a chunk after the end reached the client: %q", got)
		}
	}
}
