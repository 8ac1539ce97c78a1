// Package celpolicy is the built-in cel_policy plugin kind: an ordered list
// of rules written in CEL (the Common Expression Language, as Envoy and
// Kubernetes use it) over the call — tool name and arguments, prompt,
// resource URI, identity, forwarded claims and headers, the result. The
// first rule whose condition holds allows or denies the message; when none
// does, the configured default decides.
//
// Every rule is parsed and type-checked when the policy loads; a rule that
// does not compile is a configuration error at its line. Each evaluation is
// bounded by a cost limit and by the plugin's deadline. A rule that cannot
// be evaluated (a missing field read without has()) is an error, handled by
// the plugin's on_error: fail closed by default.
//
// It does not rewrite payloads. Importing the package registers the kind.
package celpolicy
