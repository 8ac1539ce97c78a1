package envoytest

import (
	"net/http"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// hopByHop headers are never forwarded (RFC 9110 §7.6.1), as Envoy strips them.
var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "transfer-encoding": true,
	"te": true, "trailer": true, "upgrade": true,
}

// headerMap converts Go headers to Envoy's HeaderMap: lower-case names,
// one entry per value, values in raw_value, pseudo-headers first.
func headerMap(pseudo [][2]string, h http.Header) *corev3.HeaderMap {
	hm := &corev3.HeaderMap{}
	for _, kv := range pseudo {
		hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: kv[0], RawValue: []byte(kv[1])})
	}
	for k, vs := range h {
		lk := strings.ToLower(k)
		if hopByHop[lk] {
			continue
		}
		for _, v := range vs {
			hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: lk, RawValue: []byte(v)})
		}
	}
	return hm
}

func headerValue(hv *corev3.HeaderValue) string {
	if len(hv.GetRawValue()) > 0 {
		return string(hv.GetRawValue())
	}
	return hv.GetValue()
}

// applyHeaderMutation applies set and remove operations to h the way
// Envoy does. Pseudo-headers and host are not changed (Envoy's default
// mutation rules refuse routing changes unless allow_all_routing is set).
func applyHeaderMutation(h http.Header, m *extprocv3.HeaderMutation) {
	if m == nil {
		return
	}
	for _, k := range m.GetRemoveHeaders() {
		if systemHeader(k) {
			continue
		}
		h.Del(k)
	}
	for _, o := range m.GetSetHeaders() {
		k, v := o.GetHeader().GetKey(), headerValue(o.GetHeader())
		if systemHeader(k) {
			continue
		}
		// The deprecated append field is not modelled; append_action is.
		switch o.GetAppendAction() {
		case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
			h.Add(k, v)
		case corev3.HeaderValueOption_ADD_IF_ABSENT:
			if h.Get(k) == "" {
				h.Set(k, v)
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
			h.Set(k, v)
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
			if h.Get(k) != "" {
				h.Set(k, v)
			}
		}
	}
}

func systemHeader(k string) bool {
	return strings.HasPrefix(k, ":") || strings.EqualFold(k, "host")
}

// bodyMutation applies a body mutation to the current body or chunk.
func bodyMutation(cur []byte, m *extprocv3.BodyMutation) ([]byte, bool) {
	switch x := m.GetMutation().(type) {
	case *extprocv3.BodyMutation_Body:
		return x.Body, true
	case *extprocv3.BodyMutation_ClearBody:
		if x.ClearBody {
			return nil, true
		}
	case *extprocv3.BodyMutation_StreamedResponse:
		return x.StreamedResponse.GetBody(), true
	}
	return cur, false
}
