// Package anchors finds literal anchors — token prefixes such as "AKIA" or
// "ghp_", keywords such as "api_key" — in one pass over a string, whatever
// their number. The pii_filter and secrets_detection detectors use it to
// find where a labelled value may start; the check of the value itself is
// theirs.
//
// It also holds the ASCII byte classes (digit, letter, word byte) that
// define an anchor's word boundary, so that the detectors extending a match
// past its anchor agree with the scan on what a word is.
//
// It is not a general multi-pattern matcher: anchors are literals of at
// least two bytes, found only at a word boundary, and there are no
// regular expressions.
package anchors
