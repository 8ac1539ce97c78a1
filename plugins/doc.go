// Package plugins is the home of mcp-extproc's built-in plugin kinds, one
// package per kind (plugins/<kind>), each with its README. Package
// plugins/all links every kind into a binary.
//
// The packages under plugins/internal hold what several kinds share, so
// that it is written once: the literal-anchor scanner and byte classes of
// the detectors (anchors), their custom and whitelist patterns (findings),
// the walk over a payload's text (textwalk), the hooks of a plugin that
// checks a payload's JSON value (hookjson), the factory of a kind with a
// config struct (kindconfig), the HTTP client of the kinds that call a
// service (outbound), what the stand-ins of those services share
// (servicetest), and the helpers of the kinds' tests and benchmarks
// (plugintest). A kind's own behaviour stays in its package.
package plugins
