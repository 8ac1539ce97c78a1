package envoytest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

const chunkSize = 16 << 10

func headerEntry(k, v string) *corev3.HeaderValue {
	return &corev3.HeaderValue{Key: k, RawValue: []byte(v)}
}

func requestBodyMsg(b []byte, eos bool) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: b, EndOfStream: eos}}}
}

func responseBodyMsg(b []byte, eos bool) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: b, EndOfStream: eos}}}
}

// commonOfBody returns the CommonResponse of a body answer for the given
// direction, or nil if the answer is of another type (spurious).
func commonOfBody(resp *extprocv3.ProcessingResponse, request bool) (*extprocv3.CommonResponse, bool) {
	if request {
		rb := resp.GetRequestBody()
		return rb.GetResponse(), rb != nil
	}
	rb := resp.GetResponseBody()
	return rb.GetResponse(), rb != nil
}

// bodyCall sends one body message and applies the answer's header and body
// mutations. It returns the (possibly replaced) bytes and whether the body
// was mutated.
func (x *exchange) bodyCall(msg *extprocv3.ProcessingRequest, request bool, cur []byte, h http.Header) ([]byte, bool, error) {
	resp, err := x.call(msg)
	if err != nil || resp == nil {
		return cur, false, err
	}
	if lr := immediateOf(resp); lr != nil {
		return nil, false, lr
	}
	common, ok := commonOfBody(resp, request)
	if !ok {
		return nil, false, x.spurious(resp)
	}
	applyHeaderMutation(h, common.GetHeaderMutation())
	out, mutated := bodyMutation(cur, common.GetBodyMutation())
	return out, mutated, nil
}

// checkLength enforces Envoy's rule for BUFFERED bodies with headers sent:
// the content-length the processor leaves must match the mutated body, or
// the mutation is rejected with a local reply.
func checkLength(h http.Header, n int) error {
	cl := h.Get("Content-Length")
	if cl == "" {
		return nil
	}
	if v, err := strconv.Atoi(cl); err != nil || v != n {
		return errorReply(http.StatusInternalServerError, "mismatch_between_content_length_and_the_length_of_the_mutated_body")
	}
	return nil
}

// requestBody returns the upstream request body and its length (-1:
// unknown, sent chunked) for the request body mode.
func (x *exchange) requestBody(h http.Header, hasBody bool) (io.Reader, int64, error) {
	r := x.r
	mode := x.mode.RequestBodyMode
	if !hasBody {
		return http.NoBody, 0, nil
	}
	if x.bypass || mode == filterv3.ProcessingMode_NONE {
		return r.Body, r.ContentLength, nil
	}
	if r.ContentLength > 0 {
		h.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	keepCL := contentLengthKept(mode, x.mode.RequestHeaderMode, x.p.cfg.Filter.GetAllowContentLengthHeader())
	switch mode {
	case filterv3.ProcessingMode_BUFFERED, filterv3.ProcessingMode_BUFFERED_PARTIAL:
		data, whole, err := readLimited(r.Body, x.p.cfg.BufferLimit)
		if err != nil {
			return nil, 0, errorReply(http.StatusBadRequest, "downstream_read_error")
		}
		if !whole && mode == filterv3.ProcessingMode_BUFFERED {
			return nil, 0, errorReply(http.StatusRequestEntityTooLarge, "request_payload_too_large")
		}
		out, mutated, err := x.bodyCall(requestBodyMsg(data, whole), true, data, h)
		if err != nil {
			return nil, 0, err
		}
		if !whole {
			return io.MultiReader(bytes.NewReader(out), r.Body), -1, nil
		}
		if !keepCL {
			return bytes.NewReader(out), -1, nil
		}
		if mutated {
			if err := checkLength(h, len(out)); err != nil {
				return nil, 0, err
			}
		}
		return bytes.NewReader(out), int64(len(out)), nil
	case filterv3.ProcessingMode_STREAMED:
		return x.streamRequest(h), -1, nil
	case filterv3.ProcessingMode_FULL_DUPLEX_STREAMED:
		return x.duplexRequest(), -1, nil
	}
	return nil, 0, errorReply(http.StatusInternalServerError, "unsupported request body mode "+mode.String())
}

// eachChunk reads r as data arrives and calls fn with every chunk (a copy)
// and whether it is the last; the last call may carry no data, as Envoy's
// end_of_stream does when a body ends on a read boundary.
func eachChunk(r io.Reader, fn func(chunk []byte, eos bool) error) error {
	buf := make([]byte, chunkSize)
	for {
		n, rerr := r.Read(buf)
		eos := errors.Is(rerr, io.EOF)
		if rerr != nil && !eos {
			return rerr
		}
		if n == 0 && !eos {
			continue
		}
		if err := fn(append([]byte(nil), buf[:n]...), eos); err != nil {
			return err
		}
		if eos {
			return nil
		}
	}
}

// streamRequest sends the request body chunk by chunk as it arrives; each
// answered chunk goes upstream as soon as its answer comes back.
func (x *exchange) streamRequest(h http.Header) io.Reader {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	x.reqDone = done
	go func() {
		defer close(done)
		err := eachChunk(x.r.Body, func(chunk []byte, eos bool) error {
			out, _, err := x.bodyCall(requestBodyMsg(chunk, eos), true, chunk, h)
			if err != nil {
				return err
			}
			_, err = pw.Write(out)
			return err
		})
		pw.CloseWithError(err) // nil: a clean end of the body
	}()
	return pr
}

// duplexRequest streams chunks to the processor without waiting, and
// forwards upstream exactly what the processor streams back, until it
// signals end_of_stream.
func (x *exchange) duplexRequest() io.Reader {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	x.reqDone = done
	go func() { // sender
		if err := eachChunk(x.r.Body, func(chunk []byte, eos bool) error {
			return x.ps.send(requestBodyMsg(chunk, eos))
		}); err != nil {
			pw.CloseWithError(err)
		}
	}()
	go func() { // receiver
		defer close(done)
		for {
			resp, err := x.ps.recv()
			if err != nil {
				pw.CloseWithError(x.streamErr(err))
				return
			}
			if lr := immediateOf(resp); lr != nil {
				pw.CloseWithError(lr)
				return
			}
			common, ok := commonOfBody(resp, true)
			sr := common.GetBodyMutation().GetStreamedResponse()
			if !ok || sr == nil {
				pw.CloseWithError(errorReply(http.StatusInternalServerError, "ext_proc_error_spurious_message in FULL_DUPLEX_STREAMED"))
				return
			}
			if _, err := pw.Write(sr.GetBody()); err != nil {
				return
			}
			if sr.GetEndOfStream() {
				pw.Close()
				return
			}
		}
	}()
	return pr
}

func (x *exchange) streamErr(err error) error {
	if errors.Is(err, errTimeout) {
		return errorReply(http.StatusGatewayTimeout, "ext_proc_error_message_timeout")
	}
	return errorReply(http.StatusInternalServerError, "ext_proc_error_gRPC_error: "+err.Error())
}

// response runs the response phases and writes the client's response.
func (x *exchange) response(resp *http.Response) error {
	if x.reqDone != nil {
		<-x.reqDone // the request body's stream messages come first
	}
	h := resp.Header.Clone()
	status := resp.StatusCode
	hasBody := resp.ContentLength != 0 && status != http.StatusNoContent && status != http.StatusNotModified && x.r.Method != http.MethodHead
	if x.mode.ResponseHeaderMode == filterv3.ProcessingMode_SEND && !x.bypass {
		hm := headerMap([][2]string{{":status", strconv.Itoa(status)}}, h)
		pr, err := x.call(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{
			ResponseHeaders: &extprocv3.HttpHeaders{Headers: hm, EndOfStream: !hasBody}}})
		if err != nil {
			return err
		}
		if pr != nil {
			if lr := immediateOf(pr); lr != nil {
				return lr
			}
			rh := pr.GetResponseHeaders()
			if rh == nil {
				if err := x.spurious(pr); err != nil {
					return err
				}
			} else {
				applyHeaderMutation(h, rh.GetResponse().GetHeaderMutation())
				x.overrideModes(pr)
			}
		}
	}
	mode := x.mode.ResponseBodyMode
	keepCL := contentLengthKept(mode, x.mode.ResponseHeaderMode, x.p.cfg.Filter.GetAllowContentLengthHeader())
	if !hasBody || x.bypass || mode == filterv3.ProcessingMode_NONE {
		x.writeHeader(h, status, true)
		return x.copyBody(resp.Body)
	}
	switch mode {
	case filterv3.ProcessingMode_BUFFERED, filterv3.ProcessingMode_BUFFERED_PARTIAL:
		data, whole, err := readLimited(resp.Body, x.p.cfg.BufferLimit)
		if err != nil {
			return errorReply(http.StatusBadGateway, "upstream_read_error")
		}
		if !whole && mode == filterv3.ProcessingMode_BUFFERED {
			return errorReply(http.StatusInternalServerError, "response_payload_too_large")
		}
		out, mutated, err := x.bodyCall(responseBodyMsg(data, whole), false, data, h)
		if err != nil {
			return err
		}
		if keepCL && whole && mutated {
			if err := checkLength(h, len(out)); err != nil {
				return err
			}
		}
		x.writeHeader(h, status, keepCL && whole)
		if _, err := x.w.Write(out); err != nil {
			return err
		}
		if !whole {
			return x.copyBody(resp.Body)
		}
		return nil
	case filterv3.ProcessingMode_STREAMED:
		x.writeHeader(h, status, false)
		x.flush()
		return eachChunk(resp.Body, func(chunk []byte, eos bool) error {
			out, _, err := x.bodyCall(responseBodyMsg(chunk, eos), false, chunk, http.Header{})
			if err != nil {
				return err // headers are out: the stream is reset
			}
			if _, err := x.w.Write(out); err != nil {
				return err
			}
			x.flush()
			return nil
		})
	case filterv3.ProcessingMode_FULL_DUPLEX_STREAMED:
		x.writeHeader(h, status, false)
		x.flush()
		go func() {
			_ = eachChunk(resp.Body, func(chunk []byte, eos bool) error {
				return x.ps.send(responseBodyMsg(chunk, eos))
			})
		}()
		for {
			pr, err := x.ps.recv()
			if err != nil {
				return err
			}
			common, ok := commonOfBody(pr, false)
			sr := common.GetBodyMutation().GetStreamedResponse()
			if !ok || sr == nil {
				return errors.New("spurious message in FULL_DUPLEX_STREAMED")
			}
			if _, err := x.w.Write(sr.GetBody()); err != nil {
				return err
			}
			x.flush()
			if sr.GetEndOfStream() {
				return nil
			}
		}
	}
	return errorReply(http.StatusInternalServerError, "unsupported response body mode "+mode.String())
}

func (x *exchange) writeHeader(h http.Header, status int, keepCL bool) {
	dst := x.w.Header()
	for k, vs := range h {
		if hopByHop[strings.ToLower(k)] {
			continue
		}
		dst[http.CanonicalHeaderKey(k)] = vs
	}
	if !keepCL {
		dst.Del("Content-Length")
	}
	x.w.WriteHeader(status)
	x.wrote = true
}

func (x *exchange) copyBody(r io.Reader) error {
	buf := make([]byte, chunkSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := x.w.Write(buf[:n]); werr != nil {
				return werr
			}
			x.flush()
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (x *exchange) flush() {
	if f, ok := x.w.(http.Flusher); ok {
		f.Flush()
	}
}

// reply writes a local reply, unless the response has already started.
func (x *exchange) reply(lr *localReply) {
	if x.wrote {
		panic(http.ErrAbortHandler)
	}
	x.p.cfg.Logger.Info("envoytest: local reply", "status", lr.status, "details", lr.details)
	for k, vs := range lr.header {
		x.w.Header()[http.CanonicalHeaderKey(k)] = vs
	}
	x.w.Header().Set("Content-Length", strconv.Itoa(len(lr.body)))
	x.w.WriteHeader(lr.status)
	_, _ = x.w.Write(lr.body)
}
