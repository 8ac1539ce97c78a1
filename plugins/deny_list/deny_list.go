package denylist

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"unsafe"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// CodeDenyListMatch is the violation code of the deny_list kind.
const CodeDenyListMatch = "DENY_LIST_MATCH"

// Plugin is a loaded deny_list. It is immutable and safe for concurrent use.
type Plugin struct {
	words     []word
	fold      bool
	wholeWord bool
}

// ToolPreInvoke refuses a tools/call whose arguments contain a denied word.
// The tool name is not searched: naming tools is tool_filter's job.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	var res framework.Result[framework.ToolPreInvokePayload]
	var err error
	res.Violation, err = p.scan(ctx, pc, pl.Args)
	return res, err
}

// PromptPreFetch refuses a prompts/get whose arguments contain a denied word.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	var res framework.Result[framework.PromptPreFetchPayload]
	var err error
	res.Violation, err = p.scan(ctx, pc, pl.Args)
	return res, err
}

// foldBuffers recycles the case-folded copies of argument strings.
var foldBuffers = sync.Pool{New: func() any { return new([]byte) }}

// scan looks for the first denied word in the keys and string values of
// args. Arguments that are not JSON (the parser refuses them before any
// plugin runs) are an error, which blocks under the default on_error.
func (p *Plugin) scan(ctx context.Context, pc *framework.PluginContext, args json.RawMessage) (*framework.Violation, error) {
	if len(args) == 0 {
		return nil, nil
	}
	buf := foldBuffers.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= 1<<20 {
			foldBuffers.Put(buf)
		}
	}()
	t, err := pc.Text(args)
	if err != nil {
		return nil, fmt.Errorf("deny_list: arguments: %w", err)
	}
	for i := range t.Strings {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := &t.Strings[i]
		hay := s.Value
		if p.fold {
			*buf = appendFold((*buf)[:0], hay)
			hay = unsafe.String(unsafe.SliceData(*buf), len(*buf))
		}
		for j := range p.words {
			if p.words[j].find(hay, p.wholeWord) {
				return violation(s.Path, p.words[j].text), nil
			}
		}
	}
	return nil, nil
}

// violation describes a match. The word is configuration, not user data,
// so it is named; the argument's value is not.
func violation(path mcpparse.Path, w string) *framework.Violation {
	where := path.String()
	details := map[string]any{"path": where, "word": w}
	if path.IsKey() {
		details["in_key"] = true
	}
	return &framework.Violation{
		Reason:      "Denied word found",
		Description: fmt.Sprintf("the argument at %s contains the denied word %q", where, w),
		Code:        CodeDenyListMatch,
		Details:     details,
	}
}

var (
	_ framework.ToolPreInvoker   = (*Plugin)(nil)
	_ framework.PromptPreFetcher = (*Plugin)(nil)
)
