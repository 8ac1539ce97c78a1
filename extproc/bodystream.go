package extproc

import (
	"bytes"
	"errors"
	"slices"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// bodyStream is one direction of an exchange's body — the request's or the
// response's — as Envoy streams it to the server. It owns everything about
// the body that is not MCP: the body mode Envoy uses for it, the size
// bound, the content-coding to undo before reading, and for an event
// stream the SSE framing. It turns each body message into the answer that
// mode requires, and hands the exchange what to read: the whole body once
// it is complete, or each complete event as it arrives.
//
// How each mode is answered:
//
//   - BUFFERED (and NONE, or a mode Envoy does not define): one message is
//     the whole body. Its end_of_stream is false when trailers ended the
//     body, so the message is complete whatever end_of_stream says. Unchanged:
//     CONTINUE; changed: the new body with a matching content-length.
//   - STREAMED: every chunk before the last is answered by clearing it, so
//     nothing reaches the peer uninspected; the last one carries the whole
//     body, changed or not (content-length is gone in this mode).
//   - FULL_DUPLEX_STREAMED: nothing is answered until the body is complete;
//     then one streamed_response with end_of_stream carries all of it.
//   - BUFFERED_PARTIAL: a first message without end_of_stream means Envoy's
//     buffer is full and the rest would pass unread: it is refused
//     (errPartialBody).
//
// An event stream (readEvents) is always STREAMED (the exchange asks Envoy
// for it with a mode_override): each chunk is answered with the complete
// events it ends, an incomplete event is held back, and once the stream was
// ended (endEvents) every later chunk is cleared.
//
// A bodyStream serves one stream and is used by one goroutine.
type bodyStream struct {
	request bool // the request's body (its answers are request_body responses)
	mode    filterv3.ProcessingMode_BodySendMode
	read    bool // the body is read; otherwise every chunk passes as it is
	limit   int  // most bytes held, and produced by decoding
	coding  string

	buf    []byte               // the body so far (whole-body reading)
	events *mcpparse.SSEDecoder // non-nil: an event stream, read event by event
	ended  bool                 // the event stream was ended: drop the rest
}

// Errors a bodyStream reports; the exchange turns them into the answer its
// direction gives (a rejected request, a withheld response).
var (
	errBodyTooLarge  = errors.New("body larger than the limit")
	errPartialBody   = errors.New("body exceeds Envoy's buffer (BUFFERED_PARTIAL)")
	errEventTooLarge = errors.New("event larger than the limit")
	errCodedEvents   = errors.New("a compressed event stream cannot be inspected")
	errUnknownCoding = errors.New("unsupported content-encoding")
)

func newBodyStream(request bool) bodyStream {
	return bodyStream{request: request, mode: filterv3.ProcessingMode_BUFFERED}
}

// readWhole makes the stream read its body whole, after undoing coding
// (a Content-Encoding value; "" or identity for none), holding at most
// limit bytes before and after decoding.
func (s *bodyStream) readWhole(coding string, limit int) error {
	if !mcpparse.SupportedEncoding(coding) {
		return errUnknownCoding
	}
	s.read, s.coding, s.limit = true, coding, limit
	return nil
}

// readEvents makes the stream read an event stream, event by event: the
// response's mode becomes STREAMED (the caller sends that mode_override).
// No open event may grow past limit. A compressed event stream cannot be
// read incrementally and is refused.
func (s *bodyStream) readEvents(coding string, limit int) error {
	if coding != "" {
		return errCodedEvents
	}
	s.read, s.limit = true, limit
	s.mode = filterv3.ProcessingMode_STREAMED
	s.events = mcpparse.NewSSEDecoder()
	return nil
}

// eventStream reports whether the stream is read as an event stream.
func (s *bodyStream) eventStream() bool { return s.events != nil || s.ended }

// coded reports whether the body arrived with a content-coding.
func (s *bodyStream) coded() bool { return s.coding != "" }

// pending reports whether part of a body arrived and is not complete yet.
func (s *bodyStream) pending() bool { return len(s.buf) > 0 }

// add takes the next message of a body read whole. While the body is
// incomplete it returns the answer due now (nil when none is: in
// FULL_DUPLEX_STREAMED mode nothing is answered before the end); once the
// message completes the body it reports whole, and the caller reads
// decoded() and answers with pass or replace. A stream that is not read
// answers every message itself (whole is never reported).
func (s *bodyStream) add(b *extprocv3.HttpBody) (answer *extprocv3.ProcessingResponse, whole bool, err error) {
	if !s.read {
		if s.mode == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
			return streamedBody(s.request, b.GetBody(), b.GetEndOfStream()), false, nil
		}
		return continueBody(s.request), false, nil
	}
	if len(s.buf)+len(b.GetBody()) > s.limit {
		return nil, false, errBodyTooLarge
	}
	if len(s.buf) == 0 {
		// The first part is read where it is: gRPC does not reuse a
		// received message, and nothing writes into a body it reads.
		// Clipped, so that a later part is appended to a copy.
		s.buf = slices.Clip(b.GetBody())
	} else {
		s.buf = append(s.buf, b.GetBody()...)
	}
	if b.GetEndOfStream() {
		return nil, true, nil
	}
	switch s.mode {
	case filterv3.ProcessingMode_FULL_DUPLEX_STREAMED:
		return nil, false, nil
	case filterv3.ProcessingMode_STREAMED:
		return clearBody(s.request), false, nil
	case filterv3.ProcessingMode_BUFFERED_PARTIAL:
		return nil, false, errPartialBody
	}
	// BUFFERED: the one message is the whole body; its end_of_stream is
	// false only because trailers ended the body. Answering it with
	// CONTINUE would forward a body nobody read.
	return nil, true, nil
}

// raw returns the complete body as it arrived, and makes the stream ready
// for another body (a new one is read from scratch).
func (s *bodyStream) raw() []byte {
	b := s.buf
	s.buf = nil
	return b
}

// decode returns raw with its content-coding undone, at most limit bytes.
// Its errors are mcpparse's (ErrTooLarge, ErrUnsupportedEncoding,
// ErrCorruptContent).
func (s *bodyStream) decode(raw []byte) ([]byte, error) {
	if s.coding == "" {
		return raw, nil
	}
	return mcpparse.DecodeContent(s.coding, raw, s.limit)
}

// pass answers a complete body that goes on as it arrived (raw), with
// header changes if any.
func (s *bodyStream) pass(raw []byte, hm *extprocv3.HeaderMutation) *extprocv3.ProcessingResponse {
	switch s.mode {
	case filterv3.ProcessingMode_FULL_DUPLEX_STREAMED:
		return withHeaders(streamedBody(s.request, raw, true), hm)
	case filterv3.ProcessingMode_STREAMED:
		// Earlier chunks were cleared: the last one carries the whole body.
		return withHeaders(replaceBody(s.request, raw, false), hm)
	}
	return withHeaders(continueBody(s.request), hm)
}

// replace answers a complete body with another one. A body that arrived
// coded goes on decoded, without its content-encoding — in BUFFERED mode,
// where its headers are still Envoy's to change. In the streamed modes
// they have left (Envoy ignores header changes on a streamed body's
// answer), so the body is coded again with its content-encoding: the peer
// still reads exactly these bytes.
func (s *bodyStream) replace(body []byte, hm *extprocv3.HeaderMutation) *extprocv3.ProcessingResponse {
	streamed := s.mode == filterv3.ProcessingMode_STREAMED || s.mode == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED
	if s.coded() && streamed {
		// The coding was decoded (DecodeContent), so EncodeContent writes
		// it; a writer into memory does not fail.
		if enc, err := mcpparse.EncodeContent(s.coding, body); err == nil {
			body = enc
		}
	}
	var r *extprocv3.ProcessingResponse
	switch s.mode {
	case filterv3.ProcessingMode_FULL_DUPLEX_STREAMED:
		r = streamedBody(s.request, body, true)
	case filterv3.ProcessingMode_STREAMED:
		r = replaceBody(s.request, body, false)
	default:
		r = replaceBody(s.request, body, true)
	}
	if s.coded() && !streamed {
		r = withHeaders(r, &extprocv3.HeaderMutation{RemoveHeaders: []string{"content-encoding"}})
	}
	return withHeaders(r, hm)
}

// nextEvents takes the next chunk of an event stream and returns the events
// it completes — at the end of the stream the held-back tail too, read as
// if a blank line ended it. errEventTooLarge reports an open event that
// grew past the limit without ending: the events before it are returned,
// and the caller must end the stream. Once the stream was ended, nothing is
// returned and the chunk is to be dropped (ended reports it).
func (s *bodyStream) nextEvents(b *extprocv3.HttpBody) ([]mcpparse.Event, error) {
	if s.ended {
		return nil, nil
	}
	evs := s.events.Feed(b.GetBody())
	if s.events.Buffered() > s.limit {
		return evs, errEventTooLarge
	}
	if b.GetEndOfStream() {
		evs = append(evs, s.events.Flush()...)
	}
	return evs, nil
}

// answerEvents answers the chunk b with out, the bytes of the events it
// completed as they are to reach the client: CONTINUE when that is the
// chunk itself, byte for byte.
func (s *bodyStream) answerEvents(b *extprocv3.HttpBody, out []byte) *extprocv3.ProcessingResponse {
	if s.ended {
		return clearBody(s.request)
	}
	if bytes.Equal(out, b.GetBody()) {
		return continueBody(s.request)
	}
	return replaceBody(s.request, out, false)
}

// endEvents ends the event stream with out (the events so far and the
// error event that ends it): what the server sends afterwards is dropped,
// and the decoder's buffer is released.
func (s *bodyStream) endEvents(out []byte) *extprocv3.ProcessingResponse {
	s.ended = true
	s.events = nil
	return replaceBody(s.request, out, false)
}
