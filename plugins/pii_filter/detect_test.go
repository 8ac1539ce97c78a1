package piifilter_test

import (
	"testing"

	piifilter "github.com/mcp-extproc/mcp-extproc/plugins/pii_filter"
)

func TestExportedDetector(t *testing.T) {
	d, err := piifilter.NewDetector(piifilter.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	s := "mail jane.doe@example.com, ssn 123-45-6789"
	got := d.Find(s, nil)
	if len(got) != 2 || got[0].Type != piifilter.TypeEmail || s[got[0].Start:got[0].End] != "jane.doe@example.com" ||
		got[1].Type != piifilter.TypeSSN || s[got[1].Start:got[1].End] != "123-45-6789" {
		t.Fatalf("found %+v", got)
	}
	cfg := piifilter.DefaultConfig()
	cfg.DetectEmail = false
	d, _ = piifilter.NewDetector(cfg)
	if got := d.Find(s, nil); len(got) != 1 || got[0].Type != piifilter.TypeSSN {
		t.Fatalf("email disabled: %+v", got)
	}
	cfg.MaskStrategy = "bogus"
	if _, err := piifilter.NewDetector(cfg); err == nil {
		t.Fatal("a bad mask_strategy must still be an error")
	}
}
