package encodedexfil

import (
	"testing"
)

// FuzzEachDecoding: any string is read without panics, every reading lies
// inside the string, and the plugin's scan of it terminates.
func FuzzEachDecoding(f *testing.F) {
	for _, s := range []string{"ZXhwb3J0IEdJVEhVQl9UT0tFTj1naHBf", "%41%42%43%44%45%46%47%48", `\x41\x42\x43\x44\x45\x46\x47`, "MZXW6YTBOI======", "deadbeefdeadbeefdeadbeef", "%%%4", `\x\x4`} {
		f.Add(s)
	}
	pl, err := New("fuzz", DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf []byte
		pl.eachDecoding(s, &buf, func(d decoded) {
			if d.start < 0 || d.end > len(s) || d.start >= d.end || len(d.bytes) < pl.cfg.MinDecodedLength {
				t.Fatalf("%q: reading %+v", s, d)
			}
		})
		for _, fd := range pl.findIn(s, &scratch{}) {
			if fd.start < 0 || fd.end > len(s) || fd.start >= fd.end {
				t.Fatalf("%q: finding %+v", s, fd)
			}
		}
	})
}
