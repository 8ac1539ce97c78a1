package toolpin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

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
	return fingerprintParsed(make([]byte, 0, len(tool)), gjson.ParseBytes(tool))
}

// fingerprintParsed is Fingerprint of a tool already known to be valid JSON
// (a list payload: the server parsed the body), with buf as scratch space.
func fingerprintParsed(buf []byte, t gjson.Result) (string, error) {
	buf, err := canonicalTool(buf, t)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:]), nil
}

// canonicalTool appends the canonical JSON that Fingerprint hashes.
func canonicalTool(dst []byte, t gjson.Result) ([]byte, error) {
	if !t.IsObject() {
		return dst, fmt.Errorf("tool is not a JSON object")
	}
	var found [6]gjson.Result
	var dup error
	t.ForEach(func(k, v gjson.Result) bool {
		for i, m := range FingerprintMembers {
			if k.Str == m {
				if found[i].Exists() {
					dup = fmt.Errorf("tool has member %q twice", m)
					return false
				}
				found[i] = v
			}
		}
		return true
	})
	if dup != nil {
		return dst, dup
	}
	dst = append(dst, '{')
	first := true
	var err error
	for i, v := range found {
		if !v.Exists() {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, FingerprintMembers[i])
		dst = append(dst, ':')
		if dst, err = appendCanonical(dst, v); err != nil {
			return dst, fmt.Errorf("%s: %w", FingerprintMembers[i], err)
		}
	}
	return append(dst, '}'), nil
}
