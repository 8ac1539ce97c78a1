package secretsdetection

// Detector finds secrets in text with the detection settings of a Config.
// It is the kind's detector for other kinds that inspect text of their own
// (encoded_exfil runs it on the bytes it decodes); the secrets_detection
// plugin itself does not use this type. It is immutable and safe for
// concurrent use.
type Detector struct{ det *detector }

// Finding is a secret a Detector found: its byte range in the text and its
// type (github_token, aws_access_key_id, a custom pattern's type, …).
type Finding struct {
	Start, End int
	Type       string
}

// NewDetector builds a Detector from the detection settings of cfg (start
// from DefaultConfig): enabled, custom_patterns, whitelist_patterns,
// detect_high_entropy, entropy_threshold and min_entropy_length, checked as
// New checks them. The settings about what to do with a finding (action,
// redaction_text, block_on_detection, redact, min_findings_to_block,
// log_detections) play no part.
func NewDetector(cfg Config) (*Detector, error) {
	def := DefaultConfig()
	cfg.Action, cfg.BlockOnDetection, cfg.Redact, cfg.MinFindingsToBlock = ActionLog, def.BlockOnDetection, def.Redact, 1
	det, err := cfg.resolve(true)
	if err != nil {
		return nil, err
	}
	return &Detector{det: det}, nil
}

// Find appends to out the secrets in s, in order and without overlaps, as
// the secrets_detection plugin finds them in a string of a payload.
func (d *Detector) Find(s string, out []Finding) []Finding {
	for _, f := range d.det.find(s, nil) {
		out = append(out, Finding{Start: f.start, End: f.end, Type: f.typ})
	}
	return out
}
