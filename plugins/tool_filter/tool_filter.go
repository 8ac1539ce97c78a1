package toolfilter

import (
	"context"
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// CodeToolDenied is the violation code of the tool_filter kind.
const CodeToolDenied = "TOOL_DENIED"

// Plugin is a loaded tool_filter. It is immutable and safe for concurrent use.
type Plugin struct {
	allow, deny []string
}

// ToolPreInvoke refuses a tool that a deny pattern matches or, when allow
// is set, that no allow pattern matches.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	var res framework.Result[framework.ToolPreInvokePayload]
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if pat, ok := framework.MatchAny(p.deny, pl.Name); ok {
		res.Violation = &framework.Violation{
			Reason:      "Tool not allowed",
			Description: fmt.Sprintf("tool %q is denied (deny pattern %q)", pl.Name, pat),
			Code:        CodeToolDenied,
			Details:     map[string]any{"tool": pl.Name, "rule": "deny", "pattern": pat},
		}
		return res, nil
	}
	if len(p.allow) > 0 {
		if _, ok := framework.MatchAny(p.allow, pl.Name); !ok {
			res.Violation = &framework.Violation{
				Reason:      "Tool not allowed",
				Description: fmt.Sprintf("tool %q is not in the allow list", pl.Name),
				Code:        CodeToolDenied,
				Details:     map[string]any{"tool": pl.Name, "rule": "allow"},
			}
		}
	}
	return res, nil
}
