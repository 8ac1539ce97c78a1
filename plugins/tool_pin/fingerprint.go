package toolpin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/tidwall/gjson"
)

// FingerprintMembers are the members of a tool that its fingerprint covers,
// in the order RFC 8785 sorts them. Others (icons, _meta, execution) may
// change without changing the fingerprint.
var FingerprintMembers = []string{"annotations", "description", "inputSchema", "name", "outputSchema", "title"}

// Fingerprint returns a tool's fingerprint: the lower-case hex SHA-256 of
// the RFC 8785 canonical JSON of the object made of the tool's
// FingerprintMembers that are present (a member present as null is kept,
// an absent one is left out). tool is one element of a tools/list result's
// tools array.
//
// To compute it elsewhere: take the tool object, keep only those members,
// canonicalise it with any RFC 8785 implementation, and hash the UTF-8 bytes.
func Fingerprint(tool []byte) (string, error) {
	if !gjson.ValidBytes(tool) {
		return "", fmt.Errorf("tool is not valid JSON")
	}
	d, err := fingerprintParsed(string(tool))
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// digest is a fingerprint as SHA-256 gives it. A list's tools are compared
// with their pins digest to digest: writing a hundred of them in hex, one
// string each, cost more than hashing some of the tools.
type digest [sha256.Size]byte

// String is the fingerprint as the lockfile writes it: lower-case hex.
func (d digest) String() string { return hex.EncodeToString(d[:]) }

// parseDigest reads a fingerprint written in hex; ok is false for anything
// but 64 hex digits.
func parseDigest(s string) (d digest, ok bool) {
	if len(s) != 2*len(d) {
		return d, false
	}
	_, err := hex.Decode(d[:], []byte(s))
	return d, err == nil
}

// fingerprintParsed is Fingerprint of a tool already known to be valid JSON
// (a list payload: the server parsed the body).
func fingerprintParsed(t string) (digest, error) {
	c := getCanonicaliser()
	defer putCanonicaliser(c)
	if d, _, ok := fingerprintFast(c, t); ok {
		return d, nil
	}
	return fingerprintCanonicalised(c, t)
}

// fingerprintCanonicalised is fingerprintParsed through the canonicaliser,
// for tools the fast path does not take.
func fingerprintCanonicalised(c *canonicaliser, t string) (digest, error) {
	var err error
	if c.out, err = c.tool(c.out[:0], t); err != nil {
		return digest{}, err
	}
	return sha256.Sum256(c.out), nil
}

// canonicalTool appends the canonical JSON that Fingerprint hashes, of the
// tool object s.
func canonicalTool(dst []byte, s string) ([]byte, error) {
	c := getCanonicaliser()
	defer putCanonicaliser(c)
	return c.tool(dst, s)
}

func (c *canonicaliser) tool(dst []byte, s string) ([]byte, error) {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return dst, fmt.Errorf("tool is not a JSON object")
	}
	dst, end, err := c.members(dst, s, i, 0, isFingerprintMember)
	if err == nil && skipSpace(s, end) != len(s) {
		err = errSyntax
	}
	if err != nil {
		return dst, err
	}
	return c.sorted(dst, c.ms, errTwice)
}

func errTwice(key string) error { return fmt.Errorf("tool has member %q twice", key) }

func isFingerprintMember(key string) bool { return slices.Contains(FingerprintMembers, key) }
