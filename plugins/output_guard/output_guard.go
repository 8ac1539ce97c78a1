package outputguard

import (
	"context"
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Violation codes of the output_guard kind.
const (
	CodeOutputTooLong  = "OUTPUT_TOO_LONG"
	CodeOutputTooShort = "OUTPUT_TOO_SHORT"
)

// Plugin is a loaded output_guard. It is immutable and safe for concurrent use.
type Plugin struct {
	max, min     int
	block        bool
	ellipsis     string
	wordBoundary bool
}

// ToolPostInvoke checks the length of a tools/call result's text: too
// short (and not an error result) refuses it; too long refuses it with
// strategy block and truncates it otherwise.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	var res framework.Result[framework.ToolPostInvokePayload]
	if err := ctx.Err(); err != nil {
		return res, err
	}
	t, err := pc.Text(pl.Result)
	if err != nil {
		return res, fmt.Errorf("output_guard: result: %w", err)
	}
	l := measure(t)
	if p.min > 0 && l.contentChars < p.min && !l.isError {
		res.Violation = &framework.Violation{
			Reason:      "Output too short",
			Description: fmt.Sprintf("the tool result has %d characters of text; min_chars is %d", l.contentChars, p.min),
			Code:        CodeOutputTooShort,
			Details:     map[string]any{"part": "content", "chars": l.contentChars, "min_chars": p.min},
		}
		return res, nil
	}
	if p.max == 0 || (l.contentChars <= p.max && l.structuredChars <= p.max) {
		return res, nil
	}
	if p.block {
		part, chars := "content", l.contentChars
		if chars <= p.max {
			part, chars = "structuredContent", l.structuredChars
		}
		res.Violation = &framework.Violation{
			Reason:      "Output too long",
			Description: fmt.Sprintf("the tool result's %s has %d characters of text; max_chars is %d", part, chars, p.max),
			Code:        CodeOutputTooLong,
			Details:     map[string]any{"part": part, "chars": chars, "max_chars": p.max},
		}
		return res, nil
	}
	if out, changed := p.truncate(t, l); changed {
		res.ModifiedPayload = &framework.ToolPostInvokePayload{Name: pl.Name, Result: out}
		res.Metadata = map[string]any{"truncated": true, "content_chars": l.contentChars, "structured_chars": l.structuredChars, "max_chars": p.max}
	}
	return res, nil
}

var _ framework.ToolPostInvoker = (*Plugin)(nil)
