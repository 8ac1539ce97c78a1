package external

import "github.com/mcp-extproc/mcp-extproc/framework"

var _ framework.ErrorResultReader = (*Plugin)(nil)

// ReadsErrorResults reports mcp.error_results: an external plugin's post
// hooks see JSON-RPC errors only when its entry opts in, as plugins written
// for ContextForge expect results.
func (p *Plugin) ReadsErrorResults() bool { return p.pc.MCP != nil && p.pc.MCP.ErrorResults }
