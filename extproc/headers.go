package extproc

import (
	"strings"

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
		if v == "" && len(hv.GetRawValue()) > 0 {
			v = string(hv.GetRawValue())
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
