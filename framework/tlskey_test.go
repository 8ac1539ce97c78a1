package framework

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecryptKeyPEM: whatever a key file holds, decrypting it does not
// panic, and a key that opens is a PKCS#8 or PEM key again.
func FuzzDecryptKeyPEM(f *testing.F) {
	for _, name := range []string{"client-key.pkcs8.pem", "client-key.legacy.pem", "client.pem"} {
		b, err := os.ReadFile(filepath.Join("external", "testdata", "tls", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, []byte("s3cret-pass"))
		f.Add(b, []byte("wrong"))
	}
	f.Fuzz(func(t *testing.T, data, password []byte) {
		out, err := decryptKeyPEM(data, password)
		if err != nil {
			return
		}
		if b, _ := pem.Decode(out); b == nil {
			t.Fatalf("decrypted into something that is not PEM: %q", out)
		}
	})
}
