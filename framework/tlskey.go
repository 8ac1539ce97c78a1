package framework

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"os"
)

// cpex's keyfile_password decrypts the client key, as Python's
// ssl.load_cert_chain(password=…) does. Two encryptions are read: PKCS#8
// "ENCRYPTED PRIVATE KEY" with PBES2 (PBKDF2 and AES-CBC or 3DES-CBC, what
// OpenSSL 3 and Python's cryptography write) and the legacy PEM encryption
// ("Proc-Type: 4,ENCRYPTED"). The standard library has neither PBES2
// parsing nor a maintained home for it, so the few ASN.1 structures of
// RFC 8018 are read here.

// loadKeyPair is tls.LoadX509KeyPair with an optional key password.
func loadKeyPair(certFile, keyFile, password string) (tls.Certificate, error) {
	if password == "" {
		return tls.LoadX509KeyPair(certFile, keyFile)
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	plain, err := decryptKeyPEM(keyPEM, []byte(password))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("keyfile %s: %w", keyFile, err)
	}
	return tls.X509KeyPair(certPEM, plain)
}

// errWrongPassword is what a password that does not open the key gives.
var errWrongPassword = errors.New("keyfile_password does not decrypt the key")

// decryptKeyPEM returns the key of a PEM file in clear; a key that is not
// encrypted is returned as it is (the password is then not needed).
func decryptKeyPEM(data, password []byte) ([]byte, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no private key in PEM")
		}
		switch {
		case block.Type == "ENCRYPTED PRIVATE KEY":
			der, err := decryptPKCS8(block.Bytes, password)
			if err != nil {
				return nil, err
			}
			return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
		//lint:ignore SA1019 legacy PEM encryption is what such files hold
		case x509.IsEncryptedPEMBlock(block):
			//lint:ignore SA1019 as above
			der, err := x509.DecryptPEMBlock(block, password)
			if err != nil {
				return nil, errWrongPassword
			}
			return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der}), nil
		case bytes.HasSuffix([]byte(block.Type), []byte("PRIVATE KEY")):
			return pem.EncodeToMemory(block), nil
		}
	}
}

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

type algorithm struct {
	OID    asn1.ObjectIdentifier
	Params asn1.RawValue `asn1:"optional"`
}

type encryptedPrivateKeyInfo struct {
	Algorithm algorithm
	Data      []byte
}

type pbes2Params struct {
	KDF    algorithm
	Scheme algorithm
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int       `asn1:"optional"`
	PRF        algorithm `asn1:"optional"`
}

// decryptPKCS8 opens an EncryptedPrivateKeyInfo (RFC 5958) encrypted with
// PBES2 (RFC 8018) and returns the PKCS#8 PrivateKeyInfo.
func decryptPKCS8(der, password []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, fmt.Errorf("encrypted private key: %w", err)
	}
	if !info.Algorithm.OID.Equal(oidPBES2) {
		return nil, fmt.Errorf("encrypted private key: scheme %s is not supported (PBES2 is)", info.Algorithm.OID)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Params.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("encrypted private key: PBES2 parameters: %w", err)
	}
	if !params.KDF.OID.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("encrypted private key: key derivation %s is not supported (PBKDF2 is)", params.KDF.OID)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KDF.Params.FullBytes, &kdf); err != nil {
		return nil, fmt.Errorf("encrypted private key: PBKDF2 parameters: %w", err)
	}
	if kdf.Iterations < 1 || kdf.Iterations > 10_000_000 {
		return nil, fmt.Errorf("encrypted private key: %d PBKDF2 iterations", kdf.Iterations)
	}
	var prf func() hash.Hash
	switch oid := kdf.PRF.OID; {
	case len(oid) == 0 || oid.Equal(oidHMACSHA1):
		prf = sha1.New
	case oid.Equal(oidHMACSHA224):
		prf = sha256.New224
	case oid.Equal(oidHMACSHA256):
		prf = sha256.New
	case oid.Equal(oidHMACSHA384):
		prf = sha512.New384
	case oid.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, fmt.Errorf("encrypted private key: PBKDF2 PRF %s is not supported", oid)
	}
	var (
		keyLen   int
		newBlock func([]byte) (cipher.Block, error)
	)
	switch oid := params.Scheme.OID; {
	case oid.Equal(oidAES128CBC):
		keyLen, newBlock = 16, aes.NewCipher
	case oid.Equal(oidAES192CBC):
		keyLen, newBlock = 24, aes.NewCipher
	case oid.Equal(oidAES256CBC):
		keyLen, newBlock = 32, aes.NewCipher
	case oid.Equal(oidDESEDE3CBC):
		keyLen, newBlock = 24, des.NewTripleDESCipher
	default:
		return nil, fmt.Errorf("encrypted private key: cipher %s is not supported (AES-CBC and DES-EDE3-CBC are)", oid)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.Scheme.Params.FullBytes, &iv); err != nil {
		return nil, fmt.Errorf("encrypted private key: IV: %w", err)
	}
	key, err := pbkdf2.Key(prf, string(password), kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, fmt.Errorf("encrypted private key: %w", err)
	}
	block, err := newBlock(key)
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(iv) != bs || len(info.Data) == 0 || len(info.Data)%bs != 0 {
		return nil, errors.New("encrypted private key: malformed ciphertext")
	}
	plain := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, info.Data)
	// PKCS#7 padding; a wrong password almost always breaks it, and the
	// PKCS#8 parse below catches the rest.
	n := int(plain[len(plain)-1])
	if n == 0 || n > bs || !bytes.Equal(plain[len(plain)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, errWrongPassword
	}
	plain = plain[:len(plain)-n]
	if _, err := x509.ParsePKCS8PrivateKey(plain); err != nil {
		return nil, errWrongPassword
	}
	return plain, nil
}
