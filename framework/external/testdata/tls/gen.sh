#!/usr/bin/env bash
# Writes the client certificate and encrypted keys that transport_test.go's
# keyfile_password test uses, with OpenSSL (what ContextForge operators and
# cpex's Python ssl module use), valid for 100 years:
#   ca.pem                       a test CA the test server trusts (its key is thrown away)
#   client.pem                   a client certificate signed by it
#   client-key.pkcs8.pem         its key, PKCS#8 encrypted (PBES2, PBKDF2-SHA256, AES-256-CBC)
#   client-key.legacy.pem        the same key, legacy PEM encryption (Proc-Type: 4,ENCRYPTED, AES-128-CBC)
# The password of both is "s3cret-pass".
set -euo pipefail
cd "$(dirname "$0")"
pass=s3cret-pass
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca-key.pem -out ca.pem -days 36500 -subj "/CN=mcp-extproc test CA" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client-key.plain.pem
openssl req -new -key client-key.plain.pem -out client.csr -subj "/CN=mcp-extproc test client"
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out client.pem -days 36500 2>/dev/null
openssl pkcs8 -topk8 -in client-key.plain.pem -out client-key.pkcs8.pem -v2 aes-256-cbc -v2prf hmacWithSHA256 -passout pass:$pass
openssl pkey -in client-key.plain.pem -out client-key.legacy.pem -traditional -aes128 -passout pass:$pass
rm -f client.csr client-key.plain.pem ca.srl ca-key.pem
