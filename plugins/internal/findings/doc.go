// Package findings holds what the detectors of sensitive values
// (pii_filter, secrets_detection) share about their findings: the custom
// patterns and whitelist patterns a policy configures, with the same keys
// and error messages in both kinds, the rule that settles overlapping
// findings, the scan that walks a payload's text with a detector, and the
// report of what it found (counts by type and paths, never values) with its
// log record.
//
// What a finding is — its type, how it is masked — stays with each
// detector: the functions here see it through the detector's functions.
package findings
