package resourcefilter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/hookjson"
)

// Embedded says whether the URI rules also hold for resources that arrive
// inside tool and prompt results.
type Embedded string

// The embedded choices.
const (
	// EmbeddedBlock applies allowed_protocols and blocked_domains to
	// embedded resources (type "resource", resource.uri) and resource links
	// (type "resource_link", uri) in tool_post_invoke and prompt_post_fetch
	// results; one that fails refuses the whole result.
	EmbeddedBlock Embedded = "block"
	// EmbeddedAllow checks only resources/read.
	EmbeddedAllow Embedded = "allow"
)

var (
	_ framework.ToolPostInvoker   = (*Plugin)(nil)
	_ framework.PromptPostFetcher = (*Plugin)(nil)
	_ framework.HookLister        = (*Plugin)(nil)
)

func (e Embedded) valid() bool { return e == EmbeddedBlock || e == EmbeddedAllow }

// Hooks narrows the hooks the plugin runs on (framework.HookLister): with
// embedded: allow it does not look at tool and prompt results at all.
func (p *Plugin) Hooks() []framework.HookType {
	if p.embedded == EmbeddedAllow {
		return []framework.HookType{framework.ResourcePreFetch, framework.ResourcePostFetch}
	}
	return kindHooks
}

// ToolPostInvoke refuses a tool result that embeds a resource, or links to
// one, whose URI resources/read would refuse.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	return hookjson.ToolPostInvoke(ctx, pl, pc, p.inspectEmbedded)
}

// PromptPostFetch refuses a prompt result whose messages embed or link a
// resource that resources/read would refuse.
func (p *Plugin) PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	return hookjson.PromptPostFetch(ctx, pl, pc, p.inspectEmbedded)
}

// inspectEmbedded checks every embedded resource and resource link of a
// result, in order, and returns the first refusal. It never rewrites.
func (p *Plugin) inspectEmbedded(ctx context.Context, hook framework.HookType, where string, raw json.RawMessage, _ *framework.PluginContext) (json.RawMessage, *framework.Violation, map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	// Every block that matters has a type "resource…"; with no such bytes
	// and no escape that could spell one, there is nothing to decode.
	if !bytes.Contains(raw, []byte("resource")) && !bytes.Contains(raw, []byte(`\u`)) {
		return nil, nil, nil, nil
	}
	blocks, err := embeddedBlocks(raw, hook == framework.PromptPostFetch)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("resource_filter: %w", err)
	}
	for _, b := range blocks {
		uri, ok := b.uri()
		if !ok {
			continue
		}
		if v := p.uriViolation(p.checkURI(uri)); v != nil {
			v.Description = fmt.Sprintf("%s %s in %s: %s", article(b.typ), strings.ReplaceAll(b.typ, "_", " "), where, v.Description)
			v.Details["embedded"] = b.typ
			return nil, v, nil, nil
		}
	}
	return nil, nil, nil, nil
}

func article(typ string) string {
	if typ == "resource" {
		return "an embedded"
	}
	return "a"
}

// contentBlock is what the URI rules need of one content block: its type,
// its uri (resource_link) and its resource.uri (embedded resource).
type contentBlock struct {
	typ                  string
	linkURI, resourceURI string
	hasLink, hasResource bool
}

// uri returns the URI a client would read from the block, by its type.
func (b *contentBlock) uri() (string, bool) {
	switch b.typ {
	case "resource_link":
		return b.linkURI, b.hasLink
	case "resource":
		return b.resourceURI, b.hasResource
	}
	return "", false
}

// embeddedBlocks reads the content blocks of a tool result
// (content[i]) or a prompt result (messages[i].content, one block or, as
// some servers send, a list), with JSON escapes decoded.
func embeddedBlocks(raw []byte, prompt bool) ([]*contentBlock, error) {
	var blocks []*contentBlock
	index := map[[2]int]*contentBlock{}
	_, _, err := mcpparse.WalkStrings(raw, mcpparse.WalkOptions{}, func(path mcpparse.Path, s string) (string, bool) {
		n := blockPrefix(path, prompt)
		if n == 0 {
			return "", false
		}
		key := [2]int{path[1].Index, -1} // content[i], or messages[i].content
		if n == 4 {
			key[1] = path[3].Index // messages[i].content[j]
		}
		b := index[key]
		if b == nil {
			b = &contentBlock{}
			index[key] = b
			blocks = append(blocks, b)
		}
		rest := path[n:]
		switch {
		case len(rest) == 1 && rest[0].Index == mcpparse.MemberIndex && rest[0].Key == "type":
			b.typ = strings.Clone(s)
		case len(rest) == 1 && rest[0].Index == mcpparse.MemberIndex && rest[0].Key == "uri":
			b.linkURI, b.hasLink = strings.Clone(s), true
		case len(rest) == 2 && rest[0].Index == mcpparse.MemberIndex && rest[0].Key == "resource" &&
			rest[1].Index == mcpparse.MemberIndex && rest[1].Key == "uri":
			b.resourceURI, b.hasResource = strings.Clone(s), true
		}
		return "", false
	})
	return blocks, err
}

// blockPrefix is the length of the part of path that names a content
// block, 0 when path is not inside one.
func blockPrefix(path mcpparse.Path, prompt bool) int {
	member := func(i int, key string) bool {
		return len(path) > i && path[i].Index == mcpparse.MemberIndex && path[i].Key == key
	}
	item := func(i int) bool { return len(path) > i && path[i].Index >= 0 }
	if !prompt {
		if member(0, "content") && item(1) {
			return 2
		}
		return 0
	}
	if !member(0, "messages") || !item(1) || !member(2, "content") {
		return 0
	}
	if item(3) {
		return 4
	}
	return 3
}
