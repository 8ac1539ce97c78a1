package secretsdetection

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Test secrets are assembled from parts so that this file holds no literal
// credential for other scanners to trip on. None of them is real.
var (
	awsKeyID     = "AKIA" + "IOSFODNN7EXAMPLE"
	awsSecret    = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
	ghToken      = "ghp" + "_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
	ghPAT        = "github" + "_pat_" + "11ABCDEFG0123456789abc_" + strings.Repeat("Zy9", 19) + "xw"
	glToken      = "glpat" + "-" + "aB3dE6gH9jK2mN5pQ8sT"
	slackToken   = "xoxb" + "-123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
	slackHook    = "https://hooks.slack.com" + "/services/T00000000/B00000000/" + "XXXXXXXXXXXXXXXXXXXXXXXX"
	googleKey    = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
	stripeLive   = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"
	stripeTest   = "sk_" + "test_" + "4eC39HqLyjWDarjtT1zdp7dc"
	stripeRK     = "rk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"
	openaiKey    = "sk" + "-" + "AbCdEfGhIjKlMnOpQrStT3BlbkFJ0a1b2c3d4e5f6g7h8i9j0"
	openaiProj   = "sk" + "-proj-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3_-ab4cd5ef6"
	anthropicKey = "sk" + "-ant-api03-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3-AA"
	pemKey       = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yIOnSx1S+cXq\n-----END RSA " + "PRIVATE KEY-----"
	opensshCut   = "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"
	jwt          = b64(`{"alg":"HS256","typ":"JWT"}`) + "." + b64(`{"sub":"1234567890","name":"Jane"}`) + "." + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	jwtNone      = b64(`{"alg":"none"}`) + "." + b64(`{"sub":"1"}`) + "."
	uuid         = "550e8400-e29b-41d4-a716-446655440000"
	sha256Hex    = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	textBase64   = base64.StdEncoding.EncodeToString([]byte("the quick brown fox jumps over the lazy dog again"))
	randBase64   = base64.StdEncoding.EncodeToString(randBytes(30))
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func randBytes(n int) []byte {
	r := rand.New(rand.NewPCG(7, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// detect renders the findings of text as "type:value" strings.
func detect(t *testing.T, cfg Config, text string) []string {
	t.Helper()
	d, err := cfg.resolve(true)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range d.find(text, nil) {
		out = append(out, f.typ+":"+text[f.start:f.end])
	}
	return out
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"aws key id", "key=" + awsKeyID + ";", []string{"aws_access_key_id:" + awsKeyID}},
		{"aws sts key id", "ASIA" + "Y34FZKBOKMUTVV7A", []string{"aws_access_key_id:ASIAY34FZKBOKMUTVV7A"}},
		{"not aws key id: 17 chars", awsKeyID + "X", nil},
		{"not aws key id: lower case", "AKIA" + "iosfodnn7example", nil},
		{"aws secret labelled", "aws_secret_access_key = " + awsSecret, []string{"aws_secret_access_key:" + awsSecret}},
		{"aws secret labelled json", `"AWS_SECRET_ACCESS_KEY": "` + awsSecret + `"`, []string{"aws_secret_access_key:" + awsSecret}},
		{"aws secret next to key id", awsKeyID + "," + awsSecret, []string{"aws_access_key_id:" + awsKeyID, "aws_secret_access_key:" + awsSecret}},
		{"not aws secret: alone", "value " + awsSecret + " here", nil},
		{"not aws secret: 41 chars", "aws_secret_access_key=" + awsSecret + "A", nil},
		{"slack bot token", "xoxb-" + "12345678901-123456789012-abcdefghijklmnopqrstuvwx", []string{"slack_token:xoxb-12345678901-123456789012-abcdefghijklmnopqrstuvwx"}},
		{"not slack token: prose", "the xoxb-not-a-token string", nil},
		{"github classic", "token " + ghToken, []string{"github_token:" + ghToken}},
		{"github oauth", "gho" + "_" + ghToken[4:], []string{"github_token:gho_" + ghToken[4:]}},
		{"github fine-grained", ghPAT, []string{"github_token:" + ghPAT}},
		{"not github: short", "ghp" + "_abc123", nil},
		{"not github: glued", "xghp" + "_" + ghToken[4:], nil},
		{"gitlab", "PRIVATE-TOKEN: " + glToken, []string{"gitlab_token:" + glToken}},
		{"slack token", slackToken, []string{"slack_token:" + slackToken}},
		{"slack webhook", "post to " + slackHook + " now", []string{"slack_webhook:" + slackHook}},
		{"not slack webhook: other path", "https://hooks.slack.com/" + "apps/A0000000000000000000000", nil},
		{"google api key", "?key=" + googleKey + "&q=1", []string{"google_api_key:" + googleKey}},
		{"not google: 34 chars", "AIza" + googleKey[4:38], nil},
		{"stripe live", stripeLive, []string{"stripe_key:" + stripeLive}},
		{"stripe test", stripeTest, []string{"stripe_key:" + stripeTest}},
		{"stripe restricted", stripeRK, []string{"stripe_key:" + stripeRK}},
		{"not stripe: publishable", "pk_" + "live_4eC39HqLyjWDarjtT1zdp7dc", nil},
		{"openai", "OPENAI_API_KEY=" + openaiKey, []string{"openai_api_key:" + openaiKey}},
		{"openai project", openaiProj, []string{"openai_api_key:" + openaiProj}},
		{"anthropic", anthropicKey, []string{"anthropic_api_key:" + anthropicKey}},
		{"not openai: words", "use sk" + "-learn-and-scipy-for-this-task", nil},
		{"private key", "key:\n" + pemKey + "\nend", []string{"private_key:" + pemKey}},
		{"private key cut short", opensshCut, []string{"private_key:" + opensshCut}},
		{"pgp private key", "-----BEGIN PGP " + "PRIVATE KEY BLOCK-----\nabc\n-----END PGP " + "PRIVATE KEY BLOCK-----",
			[]string{"private_key:-----BEGIN PGP PRIVATE KEY BLOCK-----\nabc\n-----END PGP PRIVATE KEY BLOCK-----"}},
		{"not private key: public", "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----", nil},
		{"not private key: certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", nil},
		{"jwt", "Authorization: Bearer " + jwt, []string{"jwt:" + jwt}},
		{"jwt alg none", jwtNone + " ", []string{"jwt:" + jwtNone}},
		{"jwt ending a sentence", "token " + jwt + ". Next", []string{"jwt:" + jwt}},
		{"not jwt: five segments (JWE)", jwt + ".abc.def", nil},
		{"not jwt: no alg", b64(`{"typ":"JWT"}`) + "." + b64(`{"a":1}`) + ".sig", nil},
		{"not jwt: not json", "eyJ" + "hbGciOiJIUz.abc.def", nil},
		{"not jwt: two segments", b64(`{"alg":"HS256"}`) + "." + b64(`{"a":1}`), nil},
		{"not a secret: uuid", "id " + uuid, nil},
		{"not a secret: sha256", "digest " + sha256Hex, nil},
		{"not a secret: base64 text", "data " + textBase64, nil},
		{"not a secret: random base64", "blob " + randBase64, nil},
		{"not a secret: prose", "The service account was rotated; see the secret manager and password policy.", nil},
		{"several", "a " + ghToken + " b " + stripeLive + " c " + googleKey,
			[]string{"github_token:" + ghToken, "stripe_key:" + stripeLive, "google_api_key:" + googleKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := detect(t, DefaultConfig(), tt.text)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("find(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestHighEntropy(t *testing.T) {
	c := DefaultConfig()
	c.DetectHighEntropy = true
	tests := []struct {
		text string
		want bool
	}{
		{"blob " + randBase64, true},
		{"tok " + base64.RawURLEncoding.EncodeToString(randBytes(36)), true},
		{"id " + uuid, false},
		{"digest " + sha256Hex, false},
		{"words thisIsAVeryLongIdentifierNameForTesting and more", false},
		{"path /usr/local/lib/python3/site-packages/requests", false},
		{"short " + base64.StdEncoding.EncodeToString(randBytes(9)), false}, // 12 chars < min_entropy_length
	}
	for _, tt := range tests {
		got := detect(t, c, tt.text)
		if (len(got) > 0) != tt.want {
			t.Errorf("%q: got %q, want found=%v (entropy %.2f)", tt.text, got, tt.want, shannon(strings.Fields(tt.text)[1]))
		}
	}
	// The threshold and length are honoured.
	c.EntropyThreshold = 3.0
	if got := detect(t, c, "digest "+sha256Hex); len(got) != 1 {
		t.Errorf("threshold 3.0 misses a hex digest: %q", got)
	}
	c.EntropyThreshold, c.MinEntropyLength = 4.5, 64
	if got := detect(t, c, "blob "+randBase64); got != nil {
		t.Errorf("min_entropy_length 64 still reports %q", got)
	}
}

func TestEnabled(t *testing.T) {
	text := strings.Join([]string{awsKeyID, ghToken, glToken, slackToken, slackHook, googleKey, stripeLive, openaiKey, anthropicKey, pemKey, jwt, "password: hunter2hunter2"}, " | ")
	all := detect(t, DefaultConfig(), text)
	if len(all) != 11 {
		t.Fatalf("defaults find %d: %q", len(all), all)
	}
	tests := []struct {
		enabled map[string]bool
		gone    []string
		added   []string
	}{
		{map[string]bool{"aws": false}, []string{TypeAWSAccessKeyID}, nil},
		{map[string]bool{"aws": false, "aws_access_key_id": true}, nil, nil},
		{map[string]bool{"github": false}, []string{TypeGitHubToken}, nil},
		{map[string]bool{"gitlab_token": false}, []string{TypeGitLabToken}, nil},
		{map[string]bool{"slack": false}, []string{TypeSlackToken, TypeSlackWebhook}, nil},
		{map[string]bool{"slack_webhook": false}, []string{TypeSlackWebhook}, nil},
		{map[string]bool{"google": false}, []string{TypeGoogleAPIKey}, nil},
		{map[string]bool{"stripe": false}, []string{TypeStripeKey}, nil},
		{map[string]bool{"openai": false}, []string{TypeOpenAIKey}, nil},
		{map[string]bool{"anthropic": false}, []string{TypeAnthropicKey}, nil},
		{map[string]bool{"private_key_block": false}, []string{TypePrivateKey}, nil},
		{map[string]bool{"jwt": false}, []string{TypeJWT}, nil},
		{map[string]bool{"generic_api_key": true}, nil, []string{TypeGenericAPIKey}},
		{map[string]bool{"generic_api_key_assignment": true}, nil, []string{TypeGenericAPIKey}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.enabled), func(t *testing.T) {
			c := DefaultConfig()
			c.Enabled = tt.enabled
			got := strings.Join(detect(t, c, text), "\x00")
			for _, typ := range tt.gone {
				if strings.Contains(got, typ+":") {
					t.Fatalf("%s still found", typ)
				}
			}
			for _, typ := range tt.added {
				if !strings.Contains(got, typ+":") {
					t.Fatalf("%s not found", typ)
				}
			}
			if want := len(all) - len(tt.gone) + len(tt.added); strings.Count(got, "\x00")+1 != want {
				t.Fatalf("found %d, want %d: %q", strings.Count(got, "\x00")+1, want, got)
			}
		})
	}
}

func TestCustomAndWhitelist(t *testing.T) {
	c := DefaultConfig()
	c.CustomPatterns = []CustomPattern{
		{Type: "internal_token", Pattern: `\bitk_[a-z0-9]{16}\b`},
		{Type: "db_password", Pattern: `postgres://[^:]+:(?P<value>[^@]+)@`},
	}
	c.WhitelistPatterns = []string{`EXAMPLE`, `^sk_test_`}
	got := detect(t, c, "itk_0123456789abcdef postgres://app:s3cr3t@db/x "+awsKeyID+" "+stripeTest+" "+stripeLive)
	want := []string{"internal_token:itk_0123456789abcdef", "db_password:s3cr3t", "stripe_key:" + stripeLive}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{ghToken, jwt, pemKey, awsKeyID + "," + awsSecret, "aws_secret_access_key=", "-----BEGIN ", "eyJ.eyJ.", "sk-"} {
		f.Add(s)
	}
	c := DefaultConfig()
	c.DetectHighEntropy = true
	c.Enabled = map[string]bool{"generic_api_key": true}
	d, err := c.resolve(true)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		last := 0
		for _, x := range d.find(s, nil) {
			if x.start < last || x.end <= x.start || x.end > len(s) {
				t.Fatalf("bad finding %+v in %q", x, s)
			}
			last = x.end
		}
	})
}

func TestHighEntropyLeavesRuleFindingsAlone(t *testing.T) {
	c := DefaultConfig()
	c.DetectHighEntropy = true
	text := "aws_secret_access_key=" + awsSecret + " and " + jwt + ". " + randBase64
	got := detect(t, c, text)
	want := []string{"aws_secret_access_key:" + awsSecret, "jwt:" + jwt, "high_entropy:" + randBase64}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestEntropyRuns(t *testing.T) {
	var out []finding
	s := "abcDEF12=ghiJKL34 mnoPQR56== x"
	scanHighEntropy(s, 8, 0.1, &out, 0)
	var got []string
	for _, f := range out {
		got = append(got, s[f.start:f.end])
	}
	if fmt.Sprint(got) != "[abcDEF12= ghiJKL34 mnoPQR56==]" {
		t.Fatalf("runs %q", got)
	}
}
