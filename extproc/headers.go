package extproc

import (
	"strings"
	"unsafe"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// headers is a read view of an Envoy header map. Envoy sends lower-case
// names; values arrive in raw_value (or, from older Envoys, value). Repeated
// headers are joined with "," as HTTP allows.
//
// It is the message's headers in order, looked up by a scan: a request
// has a dozen or two, a scan of which costs less than building a map
// (the maps of a request's and its response's headers took 640 bytes
// and 1.3 µs per exchange).
type headers struct {
	kv   []headerField
	read bool // made by headersFrom (the zero headers are none received)
}

type headerField struct{ name, value string }

func headersFrom(hm *corev3.HeaderMap) headers {
	hs := hm.GetHeaders()
	h := headers{kv: make([]headerField, 0, len(hs)), read: true}
	for _, hv := range hs {
		v := hv.GetValue()
		if raw := hv.GetRawValue(); v == "" && len(raw) > 0 {
			// A view of the message's bytes, not a copy: gRPC does not
			// reuse a received message, nothing writes into it, and the
			// view keeps it alive for as long as the value is held.
			v = unsafe.String(&raw[0], len(raw))
		}
		h.kv = append(h.kv, headerField{strings.ToLower(hv.GetKey()), v})
	}
	return h
}

// lookup returns the value of the header name (its values joined with ","
// when it is repeated) and whether it is present.
func (h headers) lookup(name string) (string, bool) {
	v, found := "", false
	for _, f := range h.kv {
		if f.name != name {
			continue
		}
		if found {
			v += "," + f.value
		} else {
			v, found = f.value, true
		}
	}
	return v, found
}

// get returns the value of the header name ("" when it is absent or name
// is empty).
func (h headers) get(name string) string {
	if name == "" {
		return ""
	}
	v, _ := h.lookup(name)
	return v
}

// names returns the names of the headers, each once, in order.
func (h headers) names() []string {
	names := make([]string, 0, len(h.kv))
	seen := make(map[string]bool, len(h.kv))
	for _, f := range h.kv {
		if !seen[f.name] {
			seen[f.name] = true
			names = append(names, f.name)
		}
	}
	return names
}

// mediaType returns the content type without parameters, lower-cased.
func (h headers) mediaType() string {
	ct, _, _ := strings.Cut(h.get("content-type"), ";")
	return strings.ToLower(strings.TrimSpace(ct))
}
