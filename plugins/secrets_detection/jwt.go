package secretsdetection

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// jwtExtent returns the end of a JSON Web Token that begins at start: three
// base64url segments joined by dots (the signature may be empty, as with
// alg "none"), whose header decodes to a JSON object naming its "alg" and
// whose payload decodes as base64url. It returns -1 for anything else, so
// base64 text that happens to begin with "eyJ" is not taken for a token.
func jwtExtent(s string, start int) int {
	var seg [3][2]int
	i := start
	for n := 0; n < 3; n++ {
		seg[n][0] = i
		for i < len(s) && isTokenByte(s[i]) {
			i++
		}
		seg[n][1] = i
		if n < 2 {
			if i >= len(s) || s[i] != '.' || seg[n][1] == seg[n][0] {
				return -1
			}
			i++
		}
	}
	if i < len(s) && s[i] == '=' || i+1 < len(s) && s[i] == '.' && isTokenByte(s[i+1]) {
		return -1 // padded base64, or a JWE (five segments): not a signed token
	}
	header, err := base64.RawURLEncoding.DecodeString(s[seg[0][0]:seg[0][1]])
	if err != nil {
		return -1
	}
	var h struct {
		Alg *string `json:"alg"`
	}
	if json.Unmarshal(header, &h) != nil || h.Alg == nil || strings.TrimSpace(*h.Alg) == "" {
		return -1
	}
	if _, err := base64.RawURLEncoding.DecodeString(s[seg[1][0]:seg[1][1]]); err != nil {
		return -1
	}
	return seg[2][1]
}
