package framework

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Set reports whether the settings ask for anything beyond the system's
// roots.
func (t ClientTLSConfig) Set() bool {
	return t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.InsecureSkipVerify || t.SkipHostnameCheck
}

// Config reads the files and returns the client's TLS configuration: TLS
// 1.2 or later, the CA bundle as roots, the client certificate (its key
// decrypted with KeyFilePassword when set), and the chain verified without
// the host name under SkipHostnameCheck. Errors name the setting
// ("ca_file: …"); callers prefix where it sits (mcp.tls., tls.).
func (t ClientTLSConfig) Config() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // an explicit, documented opt-in
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file: no PEM certificate in %s", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := loadKeyPair(t.CertFile, t.KeyFile, t.KeyFilePassword)
		if err != nil {
			return nil, fmt.Errorf("cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if t.SkipHostnameCheck && !t.InsecureSkipVerify {
		verifyChainOnly(tc)
	}
	return tc, nil
}

// verifyChainOnly makes tc verify the server's certificate chain against its
// roots but not the host name, as Python's check_hostname = False does.
func verifyChainOnly(tc *tls.Config) {
	roots := tc.RootCAs
	tc.InsecureSkipVerify = true //nolint:gosec // the chain is verified below
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
}
