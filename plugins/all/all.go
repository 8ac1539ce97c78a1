// Package all links every built-in plugin kind into the program that
// imports it: each kind registers itself with the framework from init().
package all

import (
	_ "github.com/mcp-extproc/mcp-extproc/plugins/deny_list"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/output_guard"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/pii_filter"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/regex_filter"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/resource_filter"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/secrets_detection"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/tool_filter"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/tool_guard"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/tool_pin"
)
