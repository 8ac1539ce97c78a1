package piifilter

// Detector finds PII in text with the detection settings of a Config. It
// is the kind's detector for other kinds that inspect text of their own
// (encoded_exfil runs it on the bytes it decodes); the pii_filter plugin
// itself does not use this type. It is immutable and safe for concurrent
// use.
type Detector struct{ det *detector }

// Finding is a value a Detector found: its byte range in the text and its
// type (ssn, credit_card, email, a custom pattern's type, …).
type Finding struct {
	Start, End int
	Type       string
}

// NewDetector builds a Detector from the detection settings of cfg (start
// from DefaultConfig): the detect_* switches, custom_patterns and
// whitelist_patterns, checked as New checks them. The settings about what
// to do with a finding (mask_strategy, redaction_text, block_on_detection,
// log_detections, include_detection_details) play no part, save that
// mask_strategy must still be valid.
func NewDetector(cfg Config) (*Detector, error) {
	det, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	return &Detector{det: det}, nil
}

// Find appends to out the PII in s, in order and without overlaps, as the
// pii_filter plugin finds it in a string of a payload.
func (d *Detector) Find(s string, out []Finding) []Finding {
	for _, f := range d.det.find(s, nil) {
		out = append(out, Finding{Start: f.start, End: f.end, Type: f.typ})
	}
	return out
}
