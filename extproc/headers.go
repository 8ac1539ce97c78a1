package extproc

import (
	"strings"
	"unsafe"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// headers is a read view of an Envoy header map. Envoy sends lower-case
// names; values arrive in raw_value (or, from older Envoys, value). Repeated
// headers are joined with "," as HTTP allows.
type headers map[string]string

func headersFrom(hm *corev3.HeaderMap) headers {
	h := make(headers, len(hm.GetHeaders()))
	for _, hv := range hm.GetHeaders() {
		v := hv.GetValue()
		if raw := hv.GetRawValue(); v == "" && len(raw) > 0 {
			// A view of the message's bytes, not a copy: gRPC does not
			// reuse a received message, nothing writes into it, and the
			// view keeps it alive for as long as the value is held.
			v = unsafe.String(&raw[0], len(raw))
		}
		k := strings.ToLower(hv.GetKey())
		if prev, ok := h[k]; ok {
			v = prev + "," + v
		}
		h[k] = v
	}
	return h
}

func (h headers) get(name string) string {
	if name == "" {
		return ""
	}
	return h[name]
}

// mediaType returns the content type without parameters, lower-cased.
func (h headers) mediaType() string {
	ct, _, _ := strings.Cut(h["content-type"], ";")
	return strings.ToLower(strings.TrimSpace(ct))
}
