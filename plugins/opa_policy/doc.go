// Package opapolicy is the built-in opa_policy plugin kind: a decision by
// Open Policy Agent on every hook, from Rego policies compiled into the
// process (OPA's Go library, as opa-envoy-plugin embeds it) or from an OPA
// server the team already runs (its data API).
//
// The input document has the same fields as cel_policy's variables; the
// decision is a bare boolean or {allow, reason, code, rule}. An undefined
// decision denies. Policies are compiled once, when the policy file loads;
// a mistake in them is a configuration error at its Rego file and line. A
// query that cannot be evaluated, or an OPA server that cannot be reached,
// is an error handled by the plugin's on_error: fail closed by default.
//
// It does not rewrite payloads. Importing the package registers the kind.
package opapolicy
