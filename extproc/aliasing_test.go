package extproc

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// keeper is an ext_proc server that keeps what the exchange keeps of each
// message without copying it — header values (headersFrom) and a body read
// in one message (bodyStream.add) — and checks them after later messages.
type keeper struct {
	extprocv3.UnimplementedExternalProcessorServer
	kept  []string // what was kept, as views
	want  []string // the same, copied when received
	found chan string
}

func (k *keeper) Process(st extprocv3.ExternalProcessor_ProcessServer) error {
	for {
		req, err := st.Recv()
		if err != nil {
			return nil
		}
		switch r := req.Request.(type) {
		case *extprocv3.ProcessingRequest_RequestHeaders:
			v := headersFrom(r.RequestHeaders.GetHeaders()).get("x-payload")
			k.kept, k.want = append(k.kept, v), append(k.want, strings.Clone(v))
		case *extprocv3.ProcessingRequest_RequestBody:
			s := newBodyStream(true)
			_ = s.readWhole("", 1<<20)
			if _, whole, _ := s.add(r.RequestBody); whole {
				b := s.raw()
				v := string(b) // a copy, to compare with later
				k.kept, k.want = append(k.kept, unsafeView(b)), append(k.want, v)
			}
		}
		if req.GetRequestBody() != nil && req.GetRequestBody().GetBody() == nil {
			// The last message: check everything kept so far.
			for i := range k.kept {
				if k.kept[i] != k.want[i] {
					k.found <- "kept value " + strconv.Itoa(i) + " changed to " + strconv.Quote(k.kept[i][:min(40, len(k.kept[i]))])
					return nil
				}
			}
			k.found <- ""
			return nil
		}
		if err := st.Send(continueBody(true)); err != nil {
			return nil
		}
	}
}

// unsafeView reads b where it is, as the exchange does.
func unsafeView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Header values and one-message bodies are read where gRPC put them, not
// copied (headersFrom, bodyStream.add): that is safe only while gRPC and
// protobuf hand each message its own bytes, never a pooled receive buffer
// that a later message overwrites. This plays a thousand messages of
// other contents over a real connection after the first ones and checks
// that what was kept of them still reads as it arrived.
func TestKeptMessageBytesAreNotReused(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := &keeper{found: make(chan string, 1)}
	gs := grpc.NewServer(streamOptions()...)
	extprocv3.RegisterExternalProcessorServer(gs, k)
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	st, err := extprocv3.NewExternalProcessorClient(conn).Process(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		fill := strings.Repeat(string(rune('a'+i%26)), 512)
		for _, m := range []*extprocv3.ProcessingRequest{
			reqHeaders(false, ":method", "POST", ":path", "/mcp", "x-payload", fill+strconv.Itoa(i)),
			reqBody(`{"i":`+strconv.Itoa(i)+`,"pad":"`+fill+`"}`, true),
		} {
			if err := st.Send(m); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Recv(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.Send(reqBody("", true)); err != nil {
		t.Fatal(err)
	}
	if msg := <-k.found; msg != "" {
		t.Fatal(msg)
	}
}
