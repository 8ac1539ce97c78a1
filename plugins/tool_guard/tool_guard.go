package toolguard

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/listitems"
)

// CodeToolPoisoned is the violation and hidden-item code of the kind, for
// tools, prompts and resources alike.
const CodeToolPoisoned = "TOOL_POISONED"

// The checks, as named in audit records and violation details.
const (
	CheckInvisible = "invisible_character"
	CheckPhrase    = "injection_phrase"
	CheckSecret    = "secret_reference"
	CheckLength    = "description_length"
)

// family indexes Plugin.hidden.
type family int

const (
	famTool family = iota
	famPrompt
	famResource
)

func (f family) String() string { return [...]string{"tool", "prompt", "resource"}[f] }

// Plugin is a loaded tool_guard. Its settings are immutable; what it hid is
// remembered per server (bounded) so that later calls can be refused. Safe
// for concurrent use.
type Plugin struct {
	action  string
	matcher *matcher
	pre     *prefilter // nil: every list is judged item by item
	maxDesc int
	hidden  [3]*listitems.Verdicts // by family
	memo    [3]*listitems.Memo[judged]
	lists   [3]*listitems.ListMemo[listOutcome]
}

// listOutcome is what list made of one page.
type listOutcome struct {
	out   json.RawMessage
	found []framework.HiddenItem
	block *framework.Violation
}

// judged is what scanning an item found: its name and the first finding
// (nil: clean).
type judged struct {
	name string
	f    *finding
}

var (
	_ framework.ToolsPostLister     = (*Plugin)(nil)
	_ framework.PromptsPostLister   = (*Plugin)(nil)
	_ framework.ResourcesPostLister = (*Plugin)(nil)
	_ framework.ToolPreInvoker      = (*Plugin)(nil)
	_ framework.PromptPreFetcher    = (*Plugin)(nil)
	_ framework.ResourcePreFetcher  = (*Plugin)(nil)
)

// finding is one reason an item is poisoned. It names the check, the field
// and the character or configured pattern, never the item's text.
type finding struct {
	check, field, detail string
}

func (f *finding) String() string {
	switch f.check {
	case CheckInvisible:
		return fmt.Sprintf("invisible or direction-changing character %s in %s", f.detail, f.field)
	case CheckPhrase:
		return fmt.Sprintf("instruction-injection phrase %q in %s", f.detail, f.field)
	case CheckSecret:
		return fmt.Sprintf("reference to secret material %q in %s", f.detail, f.field)
	}
	return fmt.Sprintf("%s longer than %s characters", f.field, f.detail)
}

// scanner checks the texts of one list; its buffer is reused across them.
type scanner struct {
	p    *Plugin
	buf  []byte
	path []string
}

func (s *scanner) field(key string) string {
	parts := append(append(make([]string, 0, len(s.path)+1), s.path...), key)
	for i, k := range parts {
		if strings.IndexFunc(k, func(r rune) bool { return !unicode.IsGraphic(r) }) >= 0 {
			parts[i] = strconv.QuoteToASCII(k) // an audit record shows no invisible text
		}
	}
	return strings.Join(parts, ".")
}

// text checks one string; key is the member it is the value of (or the
// key itself, for object keys).
func (s *scanner) text(key, v string, description bool) *finding {
	if r, _, ok := invisible(v); ok {
		return &finding{CheckInvisible, s.field(key), describeRune(r)}
	}
	s.buf = fold(s.buf[:0], v)
	if pt, ok := s.p.matcher.find(s.buf); ok {
		c := CheckPhrase
		if pt.kind == kindSecret {
			c = CheckSecret
		}
		return &finding{c, s.field(key), pt.text}
	}
	if description && s.p.maxDesc > 0 && len(v) > s.p.maxDesc && utf8.RuneCountInString(v) > s.p.maxDesc {
		return &finding{CheckLength, s.field(key), fmt.Sprint(s.p.maxDesc)}
	}
	return nil
}

// tree checks every key and string value under v (a schema or annotations).
func (s *scanner) tree(key string, v gjson.Result) (f *finding) {
	switch {
	case v.Type == gjson.String:
		return s.text(key, v.Str, key == "description")
	case v.IsObject() || v.IsArray():
		s.path = append(s.path, key)
		obj := v.IsObject()
		v.ForEach(func(k, c gjson.Result) bool {
			ck := "[]"
			if obj {
				ck = k.Str
				if f = s.text(ck, ck, false); f != nil {
					return false
				}
			}
			f = s.tree(ck, c)
			return f == nil
		})
		s.path = s.path[:len(s.path)-1]
	}
	return f
}

// quickClean reports whether an item is clean by one pass over its JSON
// text. An item with no escape holds each of its strings verbatim, between
// quotes, so:
//
//   - invisible finds in the item's text what it finds in any of its
//     strings, and more: the characters around a string's ends are the
//     quote, which is no letter, mark or emoji, as the string's nothing is;
//     but a variation selector is allowed after a quote and not at the
//     start of a string, so an item with one there (or any character of
//     U+FE00–U+FE3F or planes 14–15 there) goes to the walk;
//   - a pattern found in any string's folded text is found in the item's
//     (folding is character by character and NFKC does not compose across
//     a quote; quotes are not word characters).
//
// A finding anywhere, even outside the scanned members, sends the item to
// the walk that decides.
func (s *scanner) quickClean(raw string) bool {
	if s.p.maxDesc > 0 && len(raw) > s.p.maxDesc {
		return false
	}
	if strings.IndexByte(raw, '\\') >= 0 ||
		strings.Contains(raw, "\"\xEF\xB8") || strings.Contains(raw, "\"\xF3\xA0") { // U+FE00–FE3F or planes 14–15 right after a quote
		return false
	}
	// Only a sequence led by 0xE2, 0xEF or 0xF3 can be a character invisible
	// flags; IndexByte skips the rest of the text fast.
	suspect := false
	for _, lead := range [...]byte{0xE2, 0xEF, 0xF3} {
		for i := 0; !suspect; i++ {
			j := strings.IndexByte(raw[i:], lead)
			if j < 0 {
				break
			}
			i += j
			suspect = mayBeInvisible(raw[i:])
		}
	}
	if suspect {
		if _, _, bad := invisible(raw); bad {
			return false
		}
	}
	s.buf = fold(s.buf[:0], raw)
	_, found := s.p.matcher.find(s.buf)
	return !found
}

// item checks one listed tool, prompt or resource.
func (s *scanner) item(fam family, it gjson.Result) *finding {
	if s.quickClean(it.Raw) {
		return nil
	}
	s.path = s.path[:0]
	return s.walkItem(fam, it)
}

// walkItem checks the scanned members of an item one string at a time.
func (s *scanner) walkItem(fam family, it gjson.Result) (f *finding) {
	it.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "name", "title", "description":
			if v.Type == gjson.String {
				f = s.text(k.Str, v.Str, k.Str == "description")
			}
		case "inputSchema", "outputSchema", "annotations":
			if fam == famTool {
				f = s.tree(k.Str, v)
			}
		case "arguments":
			if fam == famPrompt && v.IsArray() {
				s.path = append(s.path, "arguments")
				v.ForEach(func(_, arg gjson.Result) bool {
					arg.ForEach(func(ak, av gjson.Result) bool {
						if (ak.Str == "name" || ak.Str == "title" || ak.Str == "description") && av.Type == gjson.String {
							f = s.text(ak.Str, av.Str, ak.Str == "description")
						}
						return f == nil
					})
					return f == nil
				})
				s.path = s.path[:0]
			}
		}
		return f == nil
	})
	return f
}

// itemName is what a call names the item by: a tool's or prompt's name, a
// resource's URI.
func itemName(fam family, it gjson.Result) string {
	if fam == famResource {
		return listitems.Member(it, "uri").Str
	}
	return listitems.Member(it, "name").Str
}

// list judges one page of a list. It returns the rebuilt list (nil when
// unchanged), the items hidden or flagged, or the violation that blocks it.
func (p *Plugin) list(ctx context.Context, fam family, raw json.RawMessage, server string) (json.RawMessage, map[string]any, *framework.Violation, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	// Only a server with hidden items has any to clear, item by item; other
	// lists may take the outcome of the same bytes seen before.
	clearing := p.action == ActionHide && !p.hidden[fam].Empty(server)
	o, ok := p.lists[fam].Get(raw, "")
	if !ok || clearing {
		var err error
		if o, err = p.judgeList(fam, raw, server, clearing); err != nil {
			return nil, nil, nil, err
		}
		p.lists[fam].Put(raw, "", o)
	} else if p.action == ActionHide {
		for _, h := range o.found {
			if h.Name != "" {
				p.hidden[fam].Refuse(server, h.Name, h)
			}
		}
	}
	switch {
	case o.block != nil:
		return nil, nil, o.block, nil
	case o.found == nil:
		return nil, nil, nil, nil
	case p.action == ActionAudit:
		return nil, map[string]any{framework.MetadataFlaggedItems: o.found}, nil, nil
	}
	return o.out, map[string]any{framework.MetadataHiddenItems: o.found}, nil, nil
}

// judgeList scans the items of a page, records what it hides and clears
// (when clearing) what it lets through.
func (p *Plugin) judgeList(fam family, raw json.RawMessage, server string, clearing bool) (listOutcome, error) {
	if !clearing && p.pre != nil && isArray(raw) && p.pre.clean(raw) {
		return listOutcome{}, nil // nothing to hide, nothing to clear
	}
	s := scanner{p: p}
	var block *framework.Violation
	out, found, err := listitems.Filter(raw, func(it gjson.Result) *framework.HiddenItem {
		if block != nil {
			return nil
		}
		j, ok := p.memo[fam].Get(it.Raw)
		if !ok {
			j = judged{itemName(fam, it), s.item(fam, it)}
			p.memo[fam].Put(it.Raw, j)
		}
		name, f := j.name, j.f
		if f == nil {
			if clearing && name != "" {
				p.hidden[fam].Clear(server, name)
			}
			return nil
		}
		h := &framework.HiddenItem{Name: name, Code: CodeToolPoisoned, Reason: f.String()}
		switch p.action {
		case ActionBlock:
			block = &framework.Violation{
				Reason:      "Poisoned " + fam.String() + " definition",
				Description: fmt.Sprintf("%s %q: %s; the whole list is refused", fam, name, f),
				Code:        CodeToolPoisoned,
				Details:     map[string]any{fam.String(): name, "check": f.check, "field": f.field},
			}
		case ActionHide:
			if name != "" {
				p.hidden[fam].Refuse(server, name, *h)
			}
		}
		return h
	})
	if err != nil {
		return listOutcome{}, fmt.Errorf("tool_guard: %w", err)
	}
	return listOutcome{out: out, found: found, block: block}, nil
}

// isArray reports whether raw begins as a JSON array, by gjson's rule (as
// listitems.Filter requires; it reports the error for anything else).
func isArray(raw []byte) bool {
	i := 0
	for i < len(raw) && raw[i] <= ' ' {
		i++
	}
	return i < len(raw) && raw[i] == '['
}

// ToolsPostList scans every listed tool: name, title, description, every key
// and string of inputSchema, outputSchema and annotations.
func (p *Plugin) ToolsPostList(ctx context.Context, pl *framework.ToolsPostListPayload, _ *framework.PluginContext) (framework.Result[framework.ToolsPostListPayload], error) {
	var res framework.Result[framework.ToolsPostListPayload]
	out, md, v, err := p.list(ctx, famTool, pl.Tools, pl.ServerID)
	res.Violation, res.Metadata = v, md
	if out != nil {
		res.ModifiedPayload = &framework.ToolsPostListPayload{Tools: out, ServerID: pl.ServerID}
	}
	return res, err
}

// PromptsPostList scans every listed prompt: name, title, description and
// its arguments' names, titles and descriptions.
func (p *Plugin) PromptsPostList(ctx context.Context, pl *framework.PromptsPostListPayload, _ *framework.PluginContext) (framework.Result[framework.PromptsPostListPayload], error) {
	var res framework.Result[framework.PromptsPostListPayload]
	out, md, v, err := p.list(ctx, famPrompt, pl.Prompts, pl.ServerID)
	res.Violation, res.Metadata = v, md
	if out != nil {
		res.ModifiedPayload = &framework.PromptsPostListPayload{Prompts: out, ServerID: pl.ServerID}
	}
	return res, err
}

// ResourcesPostList scans every listed resource: name, title, description.
func (p *Plugin) ResourcesPostList(ctx context.Context, pl *framework.ResourcesPostListPayload, _ *framework.PluginContext) (framework.Result[framework.ResourcesPostListPayload], error) {
	var res framework.Result[framework.ResourcesPostListPayload]
	out, md, v, err := p.list(ctx, famResource, pl.Resources, pl.ServerID)
	res.Violation, res.Metadata = v, md
	if out != nil {
		res.ModifiedPayload = &framework.ResourcesPostListPayload{Resources: out, ServerID: pl.ServerID}
	}
	return res, err
}

// refusal is the violation of a call to an item this replica hid when it
// last listed it, or nil.
func (p *Plugin) refusal(fam family, pc *framework.PluginContext, name string) *framework.Violation {
	if p.action != ActionHide {
		return nil
	}
	server := ""
	if pc != nil && pc.Global != nil {
		server = pc.Global.ServerID
	}
	h, ok := p.hidden[fam].Lookup(server, name)
	if !ok {
		return nil
	}
	return &framework.Violation{
		Reason:      "Poisoned " + fam.String() + " definition",
		Description: fmt.Sprintf("%s %q was hidden from the list: %s", fam, name, h.Reason),
		Code:        CodeToolPoisoned,
		Details:     map[string]any{fam.String(): name},
	}
}

// ToolPreInvoke refuses a call to a tool hidden from this server's list.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	var res framework.Result[framework.ToolPreInvokePayload]
	res.Violation = p.refusal(famTool, pc, pl.Name)
	return res, ctx.Err()
}

// PromptPreFetch refuses prompts/get of a hidden prompt.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	var res framework.Result[framework.PromptPreFetchPayload]
	res.Violation = p.refusal(famPrompt, pc, pl.PromptID)
	return res, ctx.Err()
}

// ResourcePreFetch refuses resources/read of a hidden resource.
func (p *Plugin) ResourcePreFetch(ctx context.Context, pl *framework.ResourcePreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePreFetchPayload], error) {
	var res framework.Result[framework.ResourcePreFetchPayload]
	res.Violation = p.refusal(famResource, pc, pl.URI)
	return res, ctx.Err()
}
