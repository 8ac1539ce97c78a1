package opapolicy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// maxDecisionBytes bounds an OPA server's answer.
const maxDecisionBytes = 1 << 20

// remote asks an OPA server's data API for the decision:
// POST {url}/v1/data/{query path} with {"input": …}, answered with
// {"result": …} ({} when the decision is undefined). See OPA's REST API
// reference, "Get a Document (with Input)".
type remote struct {
	endpoint string
	headers  map[string]string
	client   *http.Client
}

func newRemote(base string, query ast.Ref, headers map[string]string) (*remote, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("expected an OPA server's base URL such as http://127.0.0.1:8181, got %q", base)
	}
	p, err := dataPath(query)
	if err != nil {
		return nil, err
	}
	// The call's deadline bounds each request; redirects are not followed,
	// so a decision always comes from the configured server.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &remote{endpoint: strings.TrimSuffix(base, "/") + p, headers: headers, client: client}, nil
}

func (r *remote) decide(ctx context.Context, input map[string]any) (any, bool, error) {
	body, err := json.Marshal(map[string]any{"input": input})
	if err != nil {
		return nil, false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxDecisionBytes+1))
	if err != nil {
		return nil, false, err
	}
	if len(raw) > maxDecisionBytes {
		return nil, false, fmt.Errorf("the OPA server's answer is over %d bytes", maxDecisionBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("the OPA server answered %s: %s", resp.Status, bytes.TrimSpace(raw[:min(len(raw), 200)]))
	}
	var out struct {
		Result *json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, false, fmt.Errorf("the OPA server's answer is not JSON: %w", err)
	}
	if out.Result == nil {
		return nil, false, nil
	}
	var v any
	if err := json.Unmarshal(*out.Result, &v); err != nil {
		return nil, false, err
	}
	return v, true, nil
}
