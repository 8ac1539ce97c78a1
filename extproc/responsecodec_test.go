package extproc

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// checkingCodec is the filter's codec that, for every answer it writes,
// also checks the bytes are protobuf's: the harness serves with it, so
// every exchange test checks the answers it plays.
type checkingCodec struct {
	extprocCodec
	t testing.TB
}

func (c checkingCodec) Marshal(v any) (out mem.BufferSlice, err error) {
	out, err = c.extprocCodec.Marshal(v)
	if r, ok := v.(*extprocv3.ProcessingResponse); ok && err == nil {
		want, werr := proto.Marshal(r)
		if got := out.Materialize(); werr != nil || !bytes.Equal(got, want) {
			c.t.Errorf("the codec wrote %x for %v; protobuf writes %x (%v)", got, r, want, werr)
		}
	}
	return out, err
}

// responseShapes are the answers the filter builds for a message that
// goes on, with everything appendTo writes set somewhere.
func responseShapes() []*extprocv3.ProcessingResponse {
	withMeta := continueBody(true)
	setDynamicMetadata(withMeta, appendStringField(nil, "verdict", "allowed"))
	mode := continueResponseHeaders(nil)
	mode.ModeOverride = &filterv3.ProcessingMode{ResponseBodyMode: filterv3.ProcessingMode_STREAMED, RequestHeaderMode: filterv3.ProcessingMode_SKIP,
		ResponseHeaderMode: filterv3.ProcessingMode_SEND, RequestBodyMode: filterv3.ProcessingMode_BUFFERED, RequestTrailerMode: filterv3.ProcessingMode_SKIP, ResponseTrailerMode: filterv3.ProcessingMode_SEND}
	skip := continueRequestHeaders(&extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{setHeader("accept-encoding", "identity")}, RemoveHeaders: []string{"x-a", ""}})
	skip.ModeOverride = skipBodies
	full := bodyResponse(false, &extprocv3.CommonResponse{
		Status:          extprocv3.CommonResponse_CONTINUE_AND_REPLACE,
		ClearRouteCache: true,
		HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{
			{Header: &corev3.HeaderValue{Key: "x-v", Value: "é"}, KeepEmptyValue: true},
			{Header: &corev3.HeaderValue{}},
			{},
		}},
		BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{}},
	})
	return []*extprocv3.ProcessingResponse{
		continueRequestHeaders(nil), continueResponseHeaders(nil), continueBody(true), continueBody(false),
		skip, mode, withMeta, full,
		clearBody(true), bodyResponse(true, &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{}}}),
		replaceBody(false, []byte(`{"jsonrpc":"2.0"}`), true), replaceBody(true, bytes.Repeat([]byte("x"), 70_000), false),
		streamedBody(false, []byte("data: {}\n\n"), true), streamedBody(true, nil, false),
		withHeaders(continueBody(false), &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{setHeader("x-mcp-verdict", "modified")}}),
		bodyResponse(true, nil),
		{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{}}}}},
		{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_StreamedResponse{
			StreamedResponse: &extprocv3.StreamedBodyResponse{EndOfStreamWithoutMessage: true, GrpcMessageCompressed: true, DrainComplete: true}}}}}}},
	}
}

func TestEncodeResponseAsProtobuf(t *testing.T) {
	for i, r := range responseShapes() {
		a, ok := newAnswer(r)
		if !ok {
			t.Fatalf("answer %d (%v): not writable by the codec", i, r)
		}
		want, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if size, got := a.size(), a.appendTo(nil); size != len(got) || !bytes.Equal(got, want) {
			t.Fatalf("answer %d (%v):\n got %x (size %d)\nwant %x", i, r, got, size, want)
		}
		out, err := newExtprocCodec().Marshal(r)
		if err != nil || !bytes.Equal(out.Materialize(), want) {
			t.Fatalf("answer %d through the codec: %x, %v", i, out.Materialize(), err)
		}
	}
}

// TestEncodeResponseLeavesTheRestToProtobuf: answers with fields it does
// not write go to protobuf, and come out as protobuf writes them.
func TestEncodeResponseLeavesTheRestToProtobuf(t *testing.T) {
	trailers := continueBody(true)
	trailers.GetRequestBody().Response.Trailers = &corev3.HeaderMap{}
	appendOpt := continueRequestHeaders(&extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "a"}, Append: wrapperspb.Bool(true)}}})
	timeout := continueBody(false)
	timeout.OverrideMessageTimeout = durationpb.New(1)
	for name, r := range map[string]*extprocv3.ProcessingResponse{
		"immediate":         immediate(403, []byte(`{}`), "blocked", map[string]string{"retry-after": "1"}),
		"trailers":          trailersResponse(true),
		"common trailers":   trailers,
		"deprecated append": appendOpt,
		"message timeout":   timeout,
		"nil set header":    continueRequestHeaders(&extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{nil}}),
		"no oneof":          {},
	} {
		if _, ok := newAnswer(r); ok {
			t.Errorf("%s: the codec would write it itself", name)
		}
		want, werr := proto.Marshal(r)
		out, err := newExtprocCodec().Marshal(r)
		if (err == nil) != (werr == nil) || (err == nil && !bytes.Equal(out.Materialize(), want)) {
			t.Errorf("%s: codec %x, %v; protobuf %x, %v", name, out.Materialize(), err, want, werr)
		}
	}
	// Strings protobuf refuses: the codec refuses them too.
	for _, r := range []*extprocv3.ProcessingResponse{
		continueRequestHeaders(&extprocv3.HeaderMutation{RemoveHeaders: []string{"\xff"}}),
		continueRequestHeaders(&extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "\xc3("}}}}),
	} {
		if _, err := newExtprocCodec().Marshal(r); err == nil {
			t.Errorf("the codec wrote %v, which is not valid UTF-8", r)
		}
	}
}

// TestEncodeResponseKnowsEveryField: the codec writes, or leaves to protobuf, each
// field of the messages it writes. A go-control-plane upgrade that adds a
// field fails here until appendTo knows it.
func TestEncodeResponseKnowsEveryField(t *testing.T) {
	known := map[string]string{
		"envoy.service.ext_proc.v3.ProcessingResponse":             "request_headers response_headers request_body response_body request_trailers response_trailers immediate_response streamed_immediate_response dynamic_metadata mode_override request_drain typed_dynamic_metadata override_message_timeout server_window_update request_drain_requests request_drain_responses",
		"envoy.service.ext_proc.v3.HeadersResponse":                "response",
		"envoy.service.ext_proc.v3.BodyResponse":                   "response",
		"envoy.service.ext_proc.v3.CommonResponse":                 "status header_mutation body_mutation trailers clear_route_cache",
		"envoy.service.ext_proc.v3.HeaderMutation":                 "set_headers remove_headers",
		"envoy.service.ext_proc.v3.BodyMutation":                   "body clear_body streamed_response",
		"envoy.service.ext_proc.v3.StreamedBodyResponse":           "body end_of_stream end_of_stream_without_message grpc_message_compressed drain_complete",
		"envoy.config.core.v3.HeaderValueOption":                   "header append append_action keep_empty_value",
		"envoy.config.core.v3.HeaderValue":                         "key value raw_value",
		"envoy.extensions.filters.http.ext_proc.v3.ProcessingMode": "request_header_mode response_header_mode request_body_mode response_body_mode request_trailer_mode response_trailer_mode",
	}
	for _, m := range []proto.Message{&extprocv3.ProcessingResponse{}, &extprocv3.HeadersResponse{}, &extprocv3.BodyResponse{}, &extprocv3.CommonResponse{},
		&extprocv3.HeaderMutation{}, &extprocv3.BodyMutation{}, &extprocv3.StreamedBodyResponse{}, &corev3.HeaderValueOption{}, &corev3.HeaderValue{}, &filterv3.ProcessingMode{}} {
		d := m.ProtoReflect().Descriptor()
		var names []string
		for i := range d.Fields().Len() {
			names = append(names, string(d.Fields().Get(i).Name()))
		}
		want := strings.Fields(known[string(d.FullName())])
		sort.Strings(names)
		sort.Strings(want)
		if strings.Join(names, " ") != strings.Join(want, " ") {
			t.Errorf("%s has fields %v; appendTo knows %v", d.FullName(), names, want)
		}
	}
}

// BenchmarkEncodeResponse writes the load benchmark's four answers with
// gRPC's protobuf codec and with the filter's.
func BenchmarkEncodeResponse(b *testing.B) {
	withMeta := continueBody(true)
	setDynamicMetadata(withMeta, appendStringField(appendStringField(nil, "method", "tools/call"), "verdict", "allowed"))
	answers := []*extprocv3.ProcessingResponse{
		continueRequestHeaders(&extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{setHeader("accept-encoding", "identity")}}),
		withMeta, continueResponseHeaders(nil), continueBody(false),
	}
	for name, c := range map[string]encoding.CodecV2{"protobuf": encoding.GetCodecV2(grpcproto.Name), "codec": newExtprocCodec()} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, r := range answers {
					if _, err := c.Marshal(r); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
