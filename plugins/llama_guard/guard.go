package llamaguard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/outbound"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/textwalk"
)

// Violation codes of the kind, the same as openai_moderation's.
const (
	CodeUnsafe       = "CONTENT_MODERATION"
	CodeServiceError = "MODERATION_ERROR"
	CodeTooLarge     = "MODERATION_INPUT_TOO_LARGE"
)

// stateUserText is the plugin-context key under which a pre hook leaves
// the User's text for the post hook of the same exchange: Llama Guard
// assesses an Agent message in the light of the User message before it.
const stateUserText = "llama_guard_user_text"

// userContextBytes bounds the User text kept for the post hook.
const userContextBytes = 4 << 10

// Plugin is a loaded llama_guard. It is safe for concurrent use.
type Plugin struct {
	outbound.Lifecycle[answer]
	client         *outbound.Client[answer]
	model          string
	categories     []Category
	selected       map[string]bool
	prompt         string
	onServiceError string
	maxTextBytes   int
}

var (
	_ framework.ToolPreInvoker      = (*Plugin)(nil)
	_ framework.ToolPostInvoker     = (*Plugin)(nil)
	_ framework.PromptPreFetcher    = (*Plugin)(nil)
	_ framework.PromptPostFetcher   = (*Plugin)(nil)
	_ framework.ResourcePostFetcher = (*Plugin)(nil)
	_ framework.Initializer         = (*Plugin)(nil)
	_ framework.Shutdowner          = (*Plugin)(nil)
)

// ToolPreInvoke assesses the tool arguments as the User's message.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	v, meta, err := p.user(ctx, pl.Args, "the tool arguments", pc)
	return framework.Result[framework.ToolPreInvokePayload]{Violation: v, Metadata: meta}, err
}

// PromptPreFetch assesses the prompt arguments as the User's message.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	v, meta, err := p.user(ctx, pl.Args, "the prompt arguments", pc)
	return framework.Result[framework.PromptPreFetchPayload]{Violation: v, Metadata: meta}, err
}

// ToolPostInvoke assesses the tool result as the Agent's message.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	v, meta, err := p.agent(ctx, pl.Result, "the tool result", "Call the tool "+quoteName(pl.Name)+".", pc)
	return framework.Result[framework.ToolPostInvokePayload]{Violation: v, Metadata: meta}, err
}

// PromptPostFetch assesses the prompt's messages as the Agent's message.
func (p *Plugin) PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	v, meta, err := p.agent(ctx, pl.Result, "the prompt result", "Get the prompt "+quoteName(pl.PromptID)+".", pc)
	return framework.Result[framework.PromptPostFetchPayload]{Violation: v, Metadata: meta}, err
}

// ResourcePostFetch assesses the resource's text as the Agent's message.
func (p *Plugin) ResourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	v, meta, err := p.agent(ctx, pl.Content, "the resource content", "Read the resource "+quoteName(pl.URI)+".", pc)
	return framework.Result[framework.ResourcePostFetchPayload]{Violation: v, Metadata: meta}, err
}

func quoteName(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return fmt.Sprintf("%q", s)
}

// user assesses a request's arguments and keeps their text for the
// exchange's post hook.
func (p *Plugin) user(ctx context.Context, raw json.RawMessage, where string, pc *framework.PluginContext) (*framework.Violation, map[string]any, error) {
	text, v, err := p.text(ctx, pc, raw, where, true)
	if v != nil || err != nil || text == "" {
		return v, nil, err
	}
	if pc != nil {
		if pc.State == nil {
			pc.State = map[string]any{}
		}
		pc.State[stateUserText] = truncate(text, userContextBytes)
	}
	return p.assess(ctx, roleUser, []turn{{roleUser, text}}, where)
}

// agent assesses a result, after the User message that asked for it: the
// arguments the pre hook saw or, when it did not run, a line naming what
// was asked.
func (p *Plugin) agent(ctx context.Context, raw json.RawMessage, where, asked string, pc *framework.PluginContext) (*framework.Violation, map[string]any, error) {
	text, v, err := p.text(ctx, pc, raw, where, false)
	if v != nil || err != nil || text == "" {
		return v, nil, err
	}
	userText := asked
	if pc != nil {
		if s, ok := pc.State[stateUserText].(string); ok && s != "" {
			userText = s
		}
	}
	return p.assess(ctx, roleAgent, []turn{{roleUser, userText}, {roleAgent, text}}, where)
}

// valueOf: the user's text (arguments, keys included) has no binary
// fields; the agent's (a result) does.
func valueOf(arguments bool) textwalk.Value {
	if arguments {
		return textwalk.Arguments
	}
	return textwalk.Result
}

// text gathers the strings of raw as one message.
func (p *Plugin) text(ctx context.Context, pc *framework.PluginContext, raw json.RawMessage, where string, keys bool) (string, *framework.Violation, error) {
	chunks, err := textwalk.Collect(ctx, pc, KindName, raw, textwalk.CollectOptions{Value: valueOf(keys), Keys: keys, ChunkBytes: p.maxTextBytes + len(raw), MaxBytes: p.maxTextBytes})
	if errors.Is(err, textwalk.ErrTooMuchText) {
		return "", &framework.Violation{Reason: "Too much text to moderate", Code: CodeTooLarge,
			Description: fmt.Sprintf("there is more text in %s than the %d bytes this plugin sends to Llama Guard", where, p.maxTextBytes),
			Details:     map[string]any{"max_text_bytes": p.maxTextBytes}}, nil
	}
	return strings.Join(chunks, "\n"), nil, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// answer is the model's verdict.
type answer struct {
	unsafe     bool
	categories []string
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// assess asks the model about the last turn, of role.
func (p *Plugin) assess(ctx context.Context, role string, turns []turn, where string) (*framework.Violation, map[string]any, error) {
	// The cache key holds what the request is made of, so that a hit
	// costs no prompt and no JSON.
	parts := [][]byte{[]byte(p.model), []byte(role)}
	for _, t := range turns {
		parts = append(parts, []byte(t.role), []byte(t.text))
	}
	key := outbound.KeyOf(parts...)
	ans, err := p.client.Call(ctx, outbound.Request{Encode: func() ([]byte, error) { return p.request(role, turns) }, Idempotent: true, CacheKey: &key}, p.decode)
	if err != nil {
		return outbound.Failure(err, p.onServiceError, CodeServiceError, "Llama Guard service error", where)
	}
	if !ans.unsafe {
		return nil, nil, nil
	}
	var hit []string
	for _, c := range ans.categories {
		if p.selected[c] {
			hit = append(hit, c)
		}
	}
	if len(ans.categories) > 0 && len(hit) == 0 {
		// Unsafe only in categories the policy does not check (the
		// server's template lists them all).
		return nil, map[string]any{"llama_guard_unsafe": ans.categories}, nil
	}
	names := make([]string, len(hit))
	for i, c := range hit {
		names[i] = c + " " + categoryName(c)
	}
	desc := fmt.Sprintf("Llama Guard assessed %s as unsafe: %s", where, strings.Join(names, ", "))
	if len(hit) == 0 {
		desc = fmt.Sprintf("Llama Guard assessed %s as unsafe", where)
	}
	return &framework.Violation{Reason: "Content policy violation detected", Description: desc, Code: CodeUnsafe,
		Details: map[string]any{"categories": hit, "role": role}}, nil, nil
}

// request is the chat completions request: the model card's prompt as
// the one user message, or the turns for the server's template.
func (p *Plugin) request(role string, turns []turn) ([]byte, error) {
	var msgs []chatMessage
	if p.prompt == PromptModelCard {
		msgs = []chatMessage{{"user", modelCardPrompt(role, p.categories, turns)}}
	} else {
		for _, t := range turns {
			r := "user"
			if t.role == roleAgent {
				r = "assistant"
			}
			msgs = append(msgs, chatMessage{r, neutralise(t.text)})
		}
	}
	return json.Marshal(struct {
		Model       string        `json:"model"`
		Messages    []chatMessage `json:"messages"`
		Temperature float64       `json:"temperature"`
		MaxTokens   int           `json:"max_tokens"`
		Stream      bool          `json:"stream"`
	}{p.model, msgs, 0, 20, false})
}

// decode reads a chat.completion object and the model's answer in its
// first choice: "safe", or "unsafe" and a line of comma-separated codes.
func (p *Plugin) decode(status int, _ http.Header, body []byte) (answer, error) {
	if status != http.StatusOK {
		return answer{}, outbound.StatusError(status)
	}
	var cc struct {
		Choices []struct {
			Message *struct {
				Content *string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(body, &cc); err != nil {
		return answer{}, fmt.Errorf("answer is not a chat completion: %w", err)
	}
	if len(cc.Choices) == 0 || cc.Choices[0].Message == nil || cc.Choices[0].Message.Content == nil {
		return answer{}, errors.New("answer has no choice with message content")
	}
	return parseVerdict(*cc.Choices[0].Message.Content)
}

// parseVerdict reads Llama Guard's generated text.
func parseVerdict(s string) (answer, error) {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	switch strings.TrimSpace(lines[0]) {
	case "safe":
		if len(lines) > 1 {
			return answer{}, errors.New("a safe verdict with more lines")
		}
		return answer{}, nil
	case "unsafe":
	default:
		return answer{}, fmt.Errorf("the first line is neither safe nor unsafe (%d bytes)", len(lines[0]))
	}
	a := answer{unsafe: true}
	if len(lines) < 2 {
		return a, nil
	}
	if len(lines) > 2 {
		return answer{}, errors.New("an unsafe verdict with more than two lines")
	}
	for _, c := range strings.Split(lines[1], ",") {
		c = strings.TrimSpace(c)
		if categoryName(c) == "" {
			return answer{}, fmt.Errorf("%q is not a Llama Guard 3 category", truncate(c, 8))
		}
		a.categories = append(a.categories, c)
	}
	return a, nil
}
