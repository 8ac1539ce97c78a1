// Package findings holds what the detectors of sensitive values
// (pii_filter, secrets_detection) share about their findings: the custom
// patterns and whitelist patterns a policy configures, with the same keys
// and error messages in both kinds, and the rule that settles overlapping
// findings.
//
// What a finding is — its type, how it is masked — stays with each
// detector: the functions here see only its bounds.
package findings
