package extproc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// pki writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA.
type pki struct {
	dir                                      string
	caPool                                   *x509.CertPool
	caFile, srvCert, srvKey, cliCert, cliKey string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &pki{dir: dir, caPool: x509.NewCertPool()}
	p.caPool.AddCert(ca)
	p.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	issue := func(name string, usage x509.ExtKeyUsage, ip bool) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(key)
		return writePEM(t, dir, name+".pem", "CERTIFICATE", der), writePEM(t, dir, name+"-key.pem", "EC PRIVATE KEY", kder)
	}
	p.srvCert, p.srvKey = issue("server", x509.ExtKeyUsageServerAuth, true)
	p.cliCert, p.cliKey = issue("client", x509.ExtKeyUsageClientAuth, false)
	return p
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// server.tls with client_ca_file: Envoy must present a certificate signed by
// that CA (mTLS); one without is refused.
func TestServeMutualTLS(t *testing.T) {
	p := newPKI(t)
	policy := "server:\n  listen: \"127.0.0.1:0\"\n  metrics_listen: \"\"\n  tls: {cert_file: " + p.srvCert + ", key_file: " + p.srvKey + ", client_ca_file: " + p.caFile + "}\n" + testPolicy
	cfg, _, err := framework.Parse([]byte(policy), "tls.yaml", framework.LoadOptions{Registry: testRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	go func() {
		_ = Run(ctx, cfg, RunOptions{Registry: testRegistry(), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
			Started: func(g, _ net.Addr, _ *Server) { addrs <- g }})
	}()
	addr := (<-addrs).String()

	dial := func(withCert bool) extprocv3.ExternalProcessorClient {
		tc := &tls.Config{RootCAs: p.caPool, MinVersion: tls.VersionTLS12}
		if withCert {
			cert, err := tls.LoadX509KeyPair(p.cliCert, p.cliKey)
			if err != nil {
				t.Fatal(err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return extprocv3.NewExternalProcessorClient(conn)
	}
	if verdict(t, dial(true), "delete_everything") {
		t.Fatal("policy not applied over mTLS")
	}
	sctx, scancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer scancel()
	s, err := dial(false).Process(sctx)
	if err == nil {
		err = s.Send(postHeaders(10))
		if err == nil {
			_, err = s.Recv()
		}
	}
	if err == nil {
		t.Fatal("a client without a certificate was served")
	}
}
