// Package secretsdetection is the secrets_detection plugin kind: it finds
// credentials — AWS access key ids and secret access keys, GitHub, GitLab,
// Slack, Google, Stripe, OpenAI and Anthropic keys, Slack webhook URLs, PEM
// private keys, JWTs, optionally any high-entropy string, and
// operator-defined patterns — in every string of every hook's payload
// (arguments, results, resource contents, resource URIs and _meta), and
// blocks the message with a SECRET_DETECTED violation, redacts the secrets,
// or only logs them.
//
// Detection is lexical and tuned for few false positives: token prefixes
// with exact lengths and alphabets, structural checks (a JWT's header must
// decode to JSON naming its alg), and a label or a neighbouring key id for
// AWS secret keys, which have no prefix. UUIDs, hashes and ordinary base64
// are not secrets unless high-entropy detection is turned on. The plugin
// never logs or reports a secret: only its type and JSON path.
//
// Importing the package registers the kind (see README.md for its settings).
package secretsdetection
