package extproc

import (
	"bytes"
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// envoyShapes are messages as Envoy sends them: decodeRequest must read
// each itself (else the codec is only protobuf's, slower).
func envoyShapes() []*extprocv3.ProcessingRequest {
	raw := func(kv ...string) *corev3.HeaderMap {
		m := &corev3.HeaderMap{}
		for i := 0; i < len(kv); i += 2 {
			m.Headers = append(m.Headers, &corev3.HeaderValue{Key: kv[i], RawValue: []byte(kv[i+1])})
		}
		return m
	}
	md, _ := structpb.NewStruct(map[string]any{"tenant": "acme"})
	msgs := append(loadExchange(),
		&extprocv3.ProcessingRequest{
			Request:           &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: raw(":method", "GET", ":path", "/mcp", "x-empty", ""), EndOfStream: true}},
			MetadataContext:   &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"envoy.filters.http.jwt_authn": md}},
			ObservabilityMode: true,
			ProtocolConfig:    &extprocv3.ProtocolConfiguration{RequestBodyMode: filterv3.ProcessingMode_STREAMED, SendBodyWithoutWaitingForHeaderResponse: true},
		},
		// Older Envoys send value, not raw_value.
		&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{{Key: ":status", Value: "200"}, {Key: "x-é", Value: "ü"}}}}}},
		&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{}}},
		&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: []byte("data: {}\n\n"), EndOfStreamWithoutMessage: true, GrpcMessageCompressed: true, DrainComplete: true}}},
		&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestTrailers{RequestTrailers: &extprocv3.HttpTrailers{Trailers: raw("grpc-status", "0")}}},
		&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseTrailers{ResponseTrailers: &extprocv3.HttpTrailers{}}},
		&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{}}}},
		&extprocv3.ProcessingRequest{},
	)
	return msgs
}

func TestDecodeRequestReadsEnvoysShapes(t *testing.T) {
	for i, m := range envoyShapes() {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var got extprocv3.ProcessingRequest
		if !decodeRequest(b, &got) {
			t.Fatalf("message %d (%v): not read by decodeRequest", i, m)
		}
		sameAsProtobuf(t, b, &got)
	}
}

// TestDecodeRequestLeavesTheRestToProtobuf: encodings outside what
// decodeRequest knows go to protobuf, and the codec answers as protobuf.
func TestDecodeRequestLeavesTheRestToProtobuf(t *testing.T) {
	body := func(s string) []byte {
		b, _ := proto.Marshal(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: []byte(s)}}})
		return b
	}
	attrs, _ := proto.Marshal(&extprocv3.ProcessingRequest{
		Request:    &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{}},
		Attributes: map[string]*structpb.Struct{"envoy.filters.http.ext_proc": {Fields: map[string]*structpb.Value{"request.path": structpb.NewStringValue("/mcp")}}},
	})
	headerValue := func(fields ...byte) []byte {
		// request_headers { headers { headers { fields } } }
		hv := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), fields)
		hm := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), hv)
		return protowire.AppendBytes(protowire.AppendTag(nil, reqRequestHeaders, protowire.BytesType), hm)
	}
	for _, tc := range []struct {
		name    string
		b       []byte
		invalid bool // protobuf refuses it too
	}{
		{name: "attributes", b: attrs},
		// A body sent twice: protobuf merges the two (the second's bytes).
		{name: "oneof member twice", b: append(body("first"), body("second")...)},
		{name: "two oneof members", b: append(body("a"), headerValue(0x0a, 1, 'k')...)},
		{name: "unknown field", b: protowire.AppendVarint(protowire.AppendTag(body("x"), 40, protowire.VarintType), 1)},
		{name: "known field, other wire type", b: protowire.AppendFixed32(protowire.AppendTag(nil, reqObservabilityMode, protowire.Fixed32Type), 1)},
		{name: "key twice", b: headerValue(0x0a, 1, 'a', 0x0a, 1, 'b')},
		{name: "key not UTF-8", b: headerValue(0x0a, 1, 0xff), invalid: true},
		{name: "value not UTF-8", b: headerValue(0x12, 2, 0xc3, 0x28), invalid: true},
		{name: "truncated", b: body("abcdef")[:5], invalid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m extprocv3.ProcessingRequest
			if decodeRequest(tc.b, &m) {
				t.Fatalf("decodeRequest read it: %v", &m)
			}
			var got extprocv3.ProcessingRequest
			err := newExtprocCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(tc.b)}, &got)
			if tc.invalid {
				if err == nil {
					t.Fatalf("the codec accepted it: %v", &got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sameAsProtobuf(t, tc.b, &got)
		})
	}
}

// TestDecodeRequestCopies: what the codec returns holds nothing of the
// buffer it read, which gRPC gives back to its pool.
func TestDecodeRequestCopies(t *testing.T) {
	for i, m := range envoyShapes() {
		b, _ := proto.Marshal(m)
		var got extprocv3.ProcessingRequest
		buf := bytes.Clone(b)
		if err := newExtprocCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(buf)}, &got); err != nil {
			t.Fatal(err)
		}
		clear(buf)
		if !proto.Equal(&got, m) {
			t.Fatalf("message %d changed with the buffer it was read from:\n got %v\nwant %v", i, &got, m)
		}
	}
}

// sameAsProtobuf fails unless got is what protobuf decodes from b, down to
// which byte fields are nil (proto.Equal takes nil and empty as equal).
func sameAsProtobuf(t *testing.T, b []byte, got *extprocv3.ProcessingRequest) {
	t.Helper()
	var want extprocv3.ProcessingRequest
	if err := proto.Unmarshal(b, &want); err != nil {
		t.Fatalf("decodeRequest read what protobuf refuses (%v): %v", err, got)
	}
	if !proto.Equal(got, &want) {
		t.Fatalf("decodeRequest and protobuf disagree:\n got %v\nwant %v", got, &want)
	}
	bodies := func(m *extprocv3.ProcessingRequest) []bool {
		var nils []bool
		for _, b := range []*extprocv3.HttpBody{m.GetRequestBody(), m.GetResponseBody()} {
			nils = append(nils, b.GetBody() == nil)
		}
		for _, hm := range []*corev3.HeaderMap{m.GetRequestHeaders().GetHeaders(), m.GetResponseHeaders().GetHeaders(), m.GetRequestTrailers().GetTrailers(), m.GetResponseTrailers().GetTrailers()} {
			for _, hv := range hm.GetHeaders() {
				nils = append(nils, hv.RawValue == nil)
			}
		}
		return nils
	}
	if g, w := bodies(got), bodies(&want); !slices.Equal(g, w) {
		t.Fatalf("nil byte fields differ: got %v, protobuf %v", g, w)
	}
}

// FuzzDecodeRequest: whatever decodeRequest reads, protobuf reads alike.
func FuzzDecodeRequest(f *testing.F) {
	for _, m := range envoyShapes() {
		b, _ := proto.Marshal(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got extprocv3.ProcessingRequest
		if decodeRequest(b, &got) {
			sameAsProtobuf(t, b, &got)
		}
	})
}

// BenchmarkDecodeRequest decodes the load benchmark's four messages with
// protobuf and with decodeRequest.
func BenchmarkDecodeRequest(b *testing.B) {
	var raw [][]byte
	for _, m := range loadExchange() {
		r, err := proto.Marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		raw = append(raw, r)
	}
	b.Run("protobuf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range raw {
				var m extprocv3.ProcessingRequest
				if err := proto.Unmarshal(r, &m); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("decodeRequest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range raw {
				var m extprocv3.ProcessingRequest
				if !decodeRequest(r, &m) {
					b.Fatal("not read")
				}
			}
		}
	})
}
