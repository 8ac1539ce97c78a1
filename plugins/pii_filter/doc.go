// Package piifilter is the pii_filter plugin kind: it finds personally
// identifiable information (US social security numbers, Luhn-valid payment
// card numbers, e-mail addresses, phone numbers, IPv4 and IPv6 addresses,
// AWS keys, API keys, and operator-defined patterns) in every string of
// prompt and tool arguments, tool and prompt results and resource contents,
// and masks it (redact, partial, hash, tokenize, remove) or blocks the
// message with a PII_DETECTED violation.
//
// Detection is lexical: hand-written scanners for the built-in types (fast
// on large results, with validation such as the Luhn check, octet ranges and
// net/netip for IPv6) and Go regular expressions for custom patterns. It is a
// guard rail against accidental disclosure, not a defence against data that
// is deliberately obfuscated. The plugin never logs or reports a detected
// value: only its type and the JSON path where it was found.
//
// Importing the package registers the kind (see README.md for its settings).
package piifilter
