package external

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// cpex types prompt_pre_fetch's args as dict[str, str] (MCP's prompt
// arguments are strings) and its server refuses a payload with any other
// value, which would turn a client's `{"n": 5}` into a plugin error. The
// client therefore sends a value that is not a string as its JSON text, so
// that the plugin still reads it, and restores the original value of every
// argument the plugin handed back unchanged.

// promptPreFetch is the client's prompt_pre_fetch.
func (p *Plugin) promptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	args, err := mcpparse.DecodeArguments(pl.Args)
	if err != nil {
		return call(p, ctx, framework.PromptPreFetch, pl, pc) // not an object: the server says so
	}
	sent := make(map[string]string, len(args))
	converted := false
	for k, v := range args {
		if s, ok := v.(string); ok {
			sent[k] = s
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return framework.Result[framework.PromptPreFetchPayload]{}, fmt.Errorf("prompt argument %q: %w", k, err)
		}
		sent[k], converted = string(b), true
	}
	if !converted {
		return call(p, ctx, framework.PromptPreFetch, pl, pc)
	}
	b, err := json.Marshal(sent)
	if err != nil {
		return framework.Result[framework.PromptPreFetchPayload]{}, err
	}
	res, err := call(p, ctx, framework.PromptPreFetch, &framework.PromptPreFetchPayload{PromptID: pl.PromptID, Args: b}, pc)
	if err != nil || res.ModifiedPayload == nil {
		return res, err
	}
	back, unchanged, err := restoreArgs(res.ModifiedPayload.Args, sent, args)
	if err != nil {
		return framework.Result[framework.PromptPreFetchPayload]{}, err
	}
	if unchanged && res.ModifiedPayload.PromptID == pl.PromptID {
		res.ModifiedPayload = nil
		return res, nil
	}
	res.ModifiedPayload = &framework.PromptPreFetchPayload{PromptID: res.ModifiedPayload.PromptID, Args: back}
	return res, nil
}

// restoreArgs gives every argument the plugin returned as it was sent its
// original value back; unchanged reports that nothing else differs.
func restoreArgs(modified json.RawMessage, sent map[string]string, orig map[string]any) (json.RawMessage, bool, error) {
	got, err := mcpparse.DecodeArguments(modified)
	if err != nil {
		return nil, false, fmt.Errorf("plugin server modified prompt arguments: %w", err)
	}
	unchanged := len(got) == len(sent)
	for k, v := range got {
		if s, ok := v.(string); ok {
			if was, had := sent[k]; had && was == s {
				got[k] = orig[k]
				continue
			}
		}
		unchanged = false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(got); err != nil {
		return nil, false, err
	}
	return bytes.TrimSpace(buf.Bytes()), unchanged, nil
}
