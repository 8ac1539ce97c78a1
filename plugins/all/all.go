// Package all links every built-in plugin kind into the program that
// imports it: each kind registers itself with the framework from init().
package all

import (
	_ "github.com/mcp-extproc/mcp-extproc/plugins/cel_policy"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/deny_list"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/encoded_exfil"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/llama_guard"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/opa_policy"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/openai_moderation"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/output_guard"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/pii_filter"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/rate_limit"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/regex_filter"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/resource_filter"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/schema_guard"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/secrets_detection"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/sql_sanitizer"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/tool_filter"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/tool_guard"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/tool_pin"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/url_reputation"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/webhook"
)
