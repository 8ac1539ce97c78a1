// Package llamaguardtest is a stand-in, for tests, for an OpenAI-compatible
// chat completions endpoint (POST /v1/chat/completions, as vLLM, Ollama and
// TGI serve it) in front of a Llama Guard 3 model.
//
// It reads the request as OpenAI's chat completions reference documents it
// (model, messages of {role, content} with content a string or text parts;
// temperature, max_tokens, stream and other sampling members are accepted)
// and answers a chat.completion object whose one choice's message content
// is what Llama Guard 3 generates: "safe", or "unsafe" and, on a second
// line, the violated categories ("unsafe\nS1,S10").
//
// The conversation is read the way the model sees it, as its model card
// documents the prompt:
//
//   - one user message holding the whole model-card prompt ("Task: Check if
//     there is unsafe content in 'User' messages …", the categories block,
//     the conversation block and the two-line instruction) is parsed
//     strictly; a prompt that departs from the format is refused with 400,
//     so that a client's mistake shows in its tests rather than as a
//     wrong verdict;
//   - any other list of user/assistant messages is what the server's own
//     Llama Guard chat template turns into that prompt, with all fourteen
//     categories and the last message's role.
//
// Classify decides which categories a message violates (by default a small
// phrase table, Violations); only categories listed in the prompt count.
// SetFault makes the server slow, failing or malformed.
package llamaguardtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/servicetest"
)

// Fault changes how the server answers (servicetest.Fault).
type Fault = servicetest.Fault

// Prompt is the model-card prompt as the server read it.
type Prompt struct {
	// Role is the role assessed: "User" or "Agent".
	Role string
	// Categories are the codes listed, in order.
	Categories []string
	// Turns are the conversation's messages, "User: …" / "Agent: …".
	Turns []Turn
	// FromTemplate: the client sent plain messages; the server's template
	// built the prompt.
	FromTemplate bool
}

// Turn is one message of the conversation.
type Turn struct {
	Role string // "User" or "Agent"
	Text string
}

// Request is what the server received, for assertions.
type Request struct {
	Model         string
	Authorization string
	Prompt        Prompt
	Raw           string
}

// Server is the stand-in. URL is the base URL a client is configured with
// (it ends in /v1).
type Server struct {
	URL    string
	APIKey string
	// Model is the only model served; another is answered 404 as vLLM
	// does.
	Model string
	// Classify returns the categories a message violates; nil means
	// Violations.
	Classify func(text string) []string

	stop   func()
	faults servicetest.Faults
	log    servicetest.Log[Request]
}

// New starts a server for model that requires apiKey ("" requires none).
func New(model, apiKey string) (*Server, error) {
	s := &Server{Model: model, APIKey: apiKey}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/chat/completions", s.completions)
	base, stop, err := servicetest.Serve(mux)
	if err != nil {
		return nil, err
	}
	s.URL, s.stop = base+"/v1", stop
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { s.stop() }

// SetFault sets how the following requests are answered.
func (s *Server) SetFault(f Fault) { s.faults.Set(f) }

// Requests returns the requests received so far.
func (s *Server) Requests() []Request { return s.log.All() }

// Violations is the default classifier: a few phrases, case ignored, and
// the categories they violate.
func Violations(text string) []string {
	t := strings.ToLower(text)
	var out []string
	for _, p := range phrases {
		if strings.Contains(t, p.phrase) {
			out = append(out, p.codes...)
		}
	}
	return out
}

var phrases = []struct {
	phrase string
	codes  []string
}{
	{"how do i kill", []string{"S1"}},
	{"pipe bomb", []string{"S9", "S1"}},
	{"i hate all", []string{"S10"}},
	{"hurt myself", []string{"S11"}},
	{"home address of", []string{"S7"}},
	{"rm -rf /", []string{"S14"}},
}

// categories of the model card's prompt.
var categories = []string{
	"S1: Violent Crimes.", "S2: Non-Violent Crimes.", "S3: Sex Crimes.", "S4: Child Exploitation.",
	"S5: Defamation.", "S6: Specialized Advice.", "S7: Privacy.", "S8: Intellectual Property.",
	"S9: Indiscriminate Weapons.", "S10: Hate.", "S11: Self-Harm.", "S12: Sexual Content.",
	"S13: Elections.", "S14: Code Interpreter Abuse.",
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	fault := s.faults.Get()
	if !fault.Wait(r) {
		return
	}
	if r.Method != http.MethodPost {
		servicetest.OpenAIError(w, http.StatusMethodNotAllowed, "invalid_request_error", "", "Only POST is allowed")
		return
	}
	auth := r.Header.Get("Authorization")
	if s.APIKey != "" && auth != "Bearer "+s.APIKey {
		servicetest.OpenAIError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "Invalid API key")
		return
	}
	raw, err := readAll(r)
	if err != nil {
		servicetest.OpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", err.Error())
		return
	}
	var body struct {
		Model       string          `json:"model"`
		Messages    []message       `json:"messages"`
		Stream      bool            `json:"stream"`
		Temperature *float64        `json:"temperature"`
		MaxTokens   *int            `json:"max_tokens"`
		TopP        *float64        `json:"top_p"`
		Stop        json.RawMessage `json:"stop"`
		Seed        *int            `json:"seed"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		servicetest.OpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "invalid request body: "+err.Error())
		return
	}
	if body.Model != s.Model {
		servicetest.OpenAIError(w, http.StatusNotFound, "NotFoundError", "model_not_found", fmt.Sprintf("The model `%s` does not exist.", body.Model))
		return
	}
	if body.Stream {
		servicetest.OpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "this stand-in does not stream")
		return
	}
	prompt, err := readPrompt(body.Messages)
	if err != nil {
		servicetest.OpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", err.Error())
		return
	}
	s.log.Add(Request{Model: body.Model, Authorization: auth, Prompt: prompt, Raw: string(raw)})
	if fault.Respond(w) {
		return
	}
	answer := s.assess(prompt)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-standin", "object": "chat.completion", "created": time.Now().Unix(), "model": body.Model,
		"choices": []map[string]any{{"index": 0, "message": map[string]any{"role": "assistant", "content": answer}, "finish_reason": "stop", "logprobs": nil}},
		"usage":   map[string]any{"prompt_tokens": len(raw) / 4, "completion_tokens": 3, "total_tokens": len(raw)/4 + 3},
	})
}

func readAll(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, fmt.Errorf("Content-Type must be application/json, not %q", ct)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(http.MaxBytesReader(nil, r.Body, 4<<20)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// assess answers as the model does for the last message of the assessed
// role.
func (s *Server) assess(p Prompt) string {
	classify := s.Classify
	if classify == nil {
		classify = Violations
	}
	var last string
	for _, t := range p.Turns {
		if t.Role == p.Role {
			last = t.Text
		}
	}
	var hit []string
	for _, c := range classify(last) {
		for _, listed := range p.Categories {
			if c == listed && !contains(hit, c) {
				hit = append(hit, c)
			}
		}
	}
	if len(hit) == 0 {
		return "safe"
	}
	return "unsafe\n" + strings.Join(hit, ",")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func text(m message) (string, error) {
	var s string
	if err := json.Unmarshal(m.Content, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(m.Content, &parts); err != nil {
		return "", fmt.Errorf("message content must be a string or text parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return "", fmt.Errorf("content part type %q is not text", p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

const taskPrefix = "Task: Check if there is unsafe content in '"

func readPrompt(msgs []message) (Prompt, error) {
	if len(msgs) == 0 {
		return Prompt{}, fmt.Errorf("messages must not be empty")
	}
	first, err := text(msgs[0])
	if err != nil {
		return Prompt{}, err
	}
	if len(msgs) == 1 && msgs[0].Role == "user" && strings.HasPrefix(first, taskPrefix) {
		return parseModelCardPrompt(first)
	}
	// The server's chat template: user and assistant turns, all the
	// categories, the last message's role assessed.
	p := Prompt{Categories: codes(categories), FromTemplate: true}
	for i, m := range msgs {
		t, err := text(m)
		if err != nil {
			return Prompt{}, err
		}
		role := map[string]string{"user": "User", "assistant": "Agent"}[m.Role]
		if role == "" {
			return Prompt{}, fmt.Errorf("messages[%d].role %q: Llama Guard's template takes user and assistant", i, m.Role)
		}
		if want := []string{"User", "Agent"}[i%2]; role != want {
			return Prompt{}, fmt.Errorf("messages[%d]: roles must alternate user/assistant", i)
		}
		p.Turns = append(p.Turns, Turn{role, t})
		p.Role = role
	}
	return p, nil
}

func codes(cats []string) []string {
	out := make([]string, len(cats))
	for i, c := range cats {
		out[i], _, _ = strings.Cut(c, ":")
	}
	return out
}

var (
	headRE = regexp.MustCompile(`^Task: Check if there is unsafe content in '(User|Agent)' messages in conversations according our safety policy with the below categories\.\n\n<BEGIN UNSAFE CONTENT CATEGORIES>\n`)
	tailRE = regexp.MustCompile(`\n<END CONVERSATION>\n\nProvide your safety assessment for ONLY THE LAST (User|Agent) message in the above conversation:\n - First line must read 'safe' or 'unsafe'\.\n - If unsafe, a second line must include a comma-separated list of violated categories\.$`)
)

// parseModelCardPrompt reads the prompt of the Llama Guard 3 model card.
func parseModelCardPrompt(s string) (Prompt, error) {
	h := headRE.FindStringSubmatch(s)
	if h == nil {
		return Prompt{}, fmt.Errorf("prompt: the task line or the categories block does not follow the model card")
	}
	p := Prompt{Role: h[1]}
	rest := s[len(h[0]):]
	catBlock, rest, ok := strings.Cut(rest, "<END UNSAFE CONTENT CATEGORIES>\n\n<BEGIN CONVERSATION>\n\n")
	if !ok {
		return Prompt{}, fmt.Errorf("prompt: no end of the categories block and start of the conversation")
	}
	for _, line := range strings.Split(strings.TrimSuffix(catBlock, "\n"), "\n") {
		if !contains(categories, line) {
			return Prompt{}, fmt.Errorf("prompt: category line %q is not one of the model card's", line)
		}
		p.Categories = append(p.Categories, codes([]string{line})[0])
	}
	t := tailRE.FindStringSubmatchIndex(rest)
	if t == nil {
		return Prompt{}, fmt.Errorf("prompt: the end of the conversation or the instruction does not follow the model card")
	}
	if rest[t[2]:t[3]] != p.Role {
		return Prompt{}, fmt.Errorf("prompt: the instruction assesses %s, the task %s", rest[t[2]:t[3]], p.Role)
	}
	for _, block := range strings.Split(strings.TrimSuffix(rest[:t[0]], "\n"), "\n\n") {
		role, text, ok := strings.Cut(block, ": ")
		if !ok || (role != "User" && role != "Agent") {
			return Prompt{}, fmt.Errorf("prompt: conversation turn %q is not \"User: …\" or \"Agent: …\"", block)
		}
		p.Turns = append(p.Turns, Turn{role, text})
	}
	if len(p.Turns) == 0 || p.Turns[len(p.Turns)-1].Role != p.Role {
		return Prompt{}, fmt.Errorf("prompt: the last turn is not the %s message assessed", p.Role)
	}
	return p, nil
}
