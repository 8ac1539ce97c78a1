// Package envoytest is an in-process stand-in for Envoy's ext_proc HTTP
// filter, for tests and for `extproc dev`. A Proxy is an http.Handler that
// forwards requests to an upstream the way Envoy with an
// envoy.filters.http.ext_proc filter would: it opens one ext_proc stream per
// request, sends headers and bodies according to the filter's
// ProcessingMode, applies the processor's header and body mutations and
// immediate responses, honours mode_override only with allow_mode_override,
// and enforces content-length rules, message_timeout (504),
// failure_mode_allow and a buffer limit (413).
//
// It is a development aid, not a proxy for production: production is Envoy.
// What it does not model is listed in its README.
package envoytest
