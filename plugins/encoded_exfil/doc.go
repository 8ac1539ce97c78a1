// Package encodedexfil is the built-in encoded_exfil plugin kind: it finds
// runs of base64 (standard and URL-safe), base32, hex, percent-encoded and
// \x-escaped text in arguments and results, decodes them within bounds
// (length, alignment, nesting depth), and runs the secrets_detection and
// pii_filter detectors on the decoded bytes, so that a credential or a
// card number smuggled out in an encoding is found like one written plainly.
// A message holding one is blocked, or the encoded run is replaced.
//
// It optionally scores runs as ContextForge's EncodedExfilDetectorPlugin
// does (entropy, printable ratio, keywords, egress hints), and answers to
// its class paths. Importing the package registers the kind.
package encodedexfil
