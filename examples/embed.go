// Package examples holds the example policies and external plugins, and
// embeds the default policy that the server runs without --config.
package examples

import _ "embed"

// DefaultPolicy is examples/default.yaml.
//
//go:embed default.yaml
var DefaultPolicy []byte

// DefaultPolicyName names the embedded policy in logs and messages.
const DefaultPolicyName = "embedded default policy (examples/default.yaml)"
