// Package moderationtest is a stand-in for OpenAI's moderation endpoint,
// for tests: an HTTP server on 127.0.0.1 that implements POST
// /v1/moderations as OpenAI's API reference ("Moderations — Create
// moderation") documents it.
//
// Request: a JSON object with input (a string, an array of strings, or an
// array of content parts {"type":"text","text":…} / {"type":"image_url",
// "image_url":{"url":…}}) and an optional model; any other member is
// refused with 400, as the API refuses unknown arguments. Authorization is
// "Bearer <key>" when the server has a key; a wrong one gets 401 with the
// API's error object. Answer: {"id","model","results":[…]} with one result
// per input, in order, each with flagged, categories (a boolean per
// category), category_scores (a number per category) and
// category_applied_input_types, for the thirteen categories of
// omni-moderation.
//
// Scores come from Classify (by default a small phrase table, Scores); a
// category is flagged at 0.5 or more. SetFault makes the server slow,
// failing or malformed.
package moderationtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/servicetest"
)

// Categories are omni-moderation's categories, as the API names them.
var Categories = []string{
	"harassment", "harassment/threatening", "hate", "hate/threatening",
	"illicit", "illicit/violent", "self-harm", "self-harm/instructions",
	"self-harm/intent", "sexual", "sexual/minors", "violence", "violence/graphic",
}

// Request is what the server received, for assertions.
type Request struct {
	Model         string
	Inputs        []string
	Authorization string
}

// Fault changes how the server answers (servicetest.Fault).
type Fault = servicetest.Fault

// Server is the stand-in. Its URL is the base URL a client is configured
// with (it ends in /v1, as OpenAI's SDKs write it).
type Server struct {
	URL    string
	APIKey string
	// Classify scores one input; nil means Scores.
	Classify func(text string) map[string]float64

	stop   func()
	faults servicetest.Faults
	log    servicetest.Log[Request]
}

// New starts a server that requires apiKey ("" requires none).
func New(apiKey string) (*Server, error) {
	s := &Server{APIKey: apiKey}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/moderations", s.moderations)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		servicetest.OpenAIError(w, http.StatusNotFound, "invalid_request_error", "unknown_url", "Invalid URL")
	})
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

// Scores is the default classifier: a few phrases, case ignored, score
// high in the categories they belong to; everything else scores near 0.
func Scores(text string) map[string]float64 {
	t := strings.ToLower(text)
	scores := map[string]float64{}
	for _, c := range Categories {
		scores[c] = 0.0001
	}
	for phrase, cats := range phrases {
		if strings.Contains(t, phrase) {
			for c, v := range cats {
				scores[c] = max(scores[c], v)
			}
		}
	}
	return scores
}

var phrases = map[string]map[string]float64{
	"i will kill you":   {"violence": 0.93, "harassment/threatening": 0.81, "harassment": 0.62},
	"i hate all of":     {"hate": 0.84, "harassment": 0.55},
	"hurt myself":       {"self-harm": 0.91, "self-harm/intent": 0.86},
	"build a pipe bomb": {"illicit/violent": 0.95, "illicit": 0.9, "violence": 0.42},
	"you are worthless": {"harassment": 0.77},
}

func (s *Server) moderations(w http.ResponseWriter, r *http.Request) {
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
		servicetest.OpenAIError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		servicetest.OpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "Content-Type must be application/json")
		return
	}
	inputs, model, err := parseRequest(r)
	if err != nil {
		servicetest.OpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", err.Error())
		return
	}
	s.log.Add(Request{Model: model, Inputs: inputs, Authorization: auth})
	if fault.Respond(w) {
		return
	}
	classify := s.Classify
	if classify == nil {
		classify = Scores
	}
	if model == "" {
		model = "omni-moderation-latest"
	}
	results := make([]map[string]any, len(inputs))
	for i, in := range inputs {
		scores := classify(in)
		cats, applied := map[string]bool{}, map[string][]string{}
		flagged := false
		for _, c := range Categories {
			cats[c] = scores[c] >= 0.5
			flagged = flagged || cats[c]
			applied[c] = []string{"text"}
			if _, ok := scores[c]; !ok {
				scores[c] = 0
			}
		}
		results[i] = map[string]any{"flagged": flagged, "categories": cats, "category_scores": scores, "category_applied_input_types": applied}
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": "modr-" + hex.EncodeToString(id), "model": model, "results": results})
}

// parseRequest reads the documented request body strictly.
func parseRequest(r *http.Request) ([]string, string, error) {
	var body struct {
		Input json.RawMessage `json:"input"`
		Model *string         `json:"model"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 4<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return nil, "", fmt.Errorf("could not parse the JSON body of the request: %v", err)
	}
	if len(body.Input) == 0 {
		return nil, "", fmt.Errorf("'input' is a required property")
	}
	model := ""
	if body.Model != nil {
		model = *body.Model
	}
	var one string
	if err := json.Unmarshal(body.Input, &one); err == nil {
		return []string{one}, model, nil
	}
	var many []string
	if err := json.Unmarshal(body.Input, &many); err == nil {
		if len(many) == 0 {
			return nil, "", fmt.Errorf("'input' must not be empty")
		}
		return many, model, nil
	}
	var parts []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		ImageURL *struct {
			URL string `json:"url"`
		} `json:"image_url"`
	}
	d := json.NewDecoder(bytes.NewReader(body.Input))
	d.DisallowUnknownFields()
	if err := d.Decode(&parts); err != nil || len(parts) == 0 {
		return nil, "", fmt.Errorf("'input' must be a string, an array of strings or an array of content parts")
	}
	var texts []string
	for _, p := range parts {
		switch {
		case p.Type == "text":
			texts = append(texts, p.Text)
		case p.Type == "image_url" && p.ImageURL != nil:
		default:
			return nil, "", fmt.Errorf("unknown content part type %q", p.Type)
		}
	}
	// Content parts are one input: the result is for all of them together.
	return []string{strings.Join(texts, "\n")}, model, nil
}
