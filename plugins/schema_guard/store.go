package schemaguard

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/tidwall/gjson"
)

// Schemas are a tool's compiled schemas; either may be nil.
type Schemas struct {
	Input  *jsonschema.Schema
	Output *jsonschema.Schema
}

// StoreLimits bound a Store.
type StoreLimits struct {
	// MaxServers is how many servers' tools are remembered; past it the
	// server used least recently is forgotten.
	MaxServers int
	// MaxToolsPerServer is how many tools of one server are remembered;
	// tools announced past it are not learned (Record says how many).
	MaxToolsPerServer int
	// MaxSchemaBytes bounds one schema (its JSON); a larger one is not
	// learned.
	MaxSchemaBytes int
}

// Store remembers the schemas MCP servers announce in tools/list results,
// per server id, within StoreLimits. It is safe for concurrent use:
// lookups take a read lock only.
type Store struct {
	limits StoreLimits
	clock  atomic.Int64 // ticks on every use, to find the least recent server

	mu      sync.RWMutex
	servers map[string]*serverSchemas
}

type serverSchemas struct {
	lastUsed atomic.Int64
	mu       sync.RWMutex
	tools    map[string]*learned
}

// learned is one tool's schemas with the digest of the JSON they were
// compiled from, so that a tool announced again unchanged is not
// recompiled.
type learned struct {
	digest [sha256.Size]byte
	Schemas
}

// NewStore returns an empty store.
func NewStore(l StoreLimits) (*Store, error) {
	if l.MaxServers <= 0 || l.MaxToolsPerServer <= 0 || l.MaxSchemaBytes <= 0 {
		return nil, errors.New("schema store: every limit must be positive")
	}
	return &Store{limits: l, servers: map[string]*serverSchemas{}}, nil
}

// Lookup returns the schemas server serverID announced for tool.
func (s *Store) Lookup(serverID, tool string) (Schemas, bool) {
	s.mu.RLock()
	srv := s.servers[serverID]
	s.mu.RUnlock()
	if srv == nil {
		return Schemas{}, false
	}
	srv.lastUsed.Store(s.clock.Add(1))
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	t, ok := srv.tools[tool]
	if !ok {
		return Schemas{}, false
	}
	return t.Schemas, true
}

// Recorded says what Record learned from one tools/list result.
type Recorded struct {
	// Learned counts tools whose schemas are now known (new or changed).
	Learned int
	// Unchanged counts tools announced again with the same schemas.
	Unchanged int
	// Skipped counts tools left out: no name, a schema over
	// MaxSchemaBytes or that does not compile, or past MaxToolsPerServer.
	Skipped int
	// Errors says why, one entry per skipped tool (at most 10).
	Errors []string
}

// Record learns the schemas of a tools/list result for serverID. list is
// either the result object ({"tools":[…],"nextCursor":…}) or its tools
// array, as the tools_post_list hook carries it. Tools are merged into what
// the server announced before, so that the pages of a paginated list add
// up; a tool announced again replaces its schemas. The error is for a list
// that is not JSON of either shape: nothing is learned from it.
func (s *Store) Record(serverID string, list json.RawMessage) (Recorded, error) {
	var rec Recorded
	tools := gjson.ParseBytes(list)
	if tools.IsObject() {
		tools = tools.Get("tools")
	}
	if !json.Valid(list) || !tools.IsArray() {
		return rec, errors.New("schema store: a tools/list result must be an object with a tools array, or that array")
	}
	srv := s.server(serverID)
	skip := func(format string, args ...any) {
		rec.Skipped++
		if len(rec.Errors) < 10 {
			rec.Errors = append(rec.Errors, fmt.Sprintf(format, args...))
		}
	}
	for i, t := range tools.Array() {
		name := t.Get("name")
		if name.Type != gjson.String || name.Str == "" {
			skip("tools[%d]: no name", i)
			continue
		}
		in, out := t.Get("inputSchema"), t.Get("outputSchema")
		digest := sha256.Sum256([]byte(in.Raw + "\x00" + out.Raw))
		srv.mu.RLock()
		old, known := srv.tools[name.Str]
		full := len(srv.tools) >= s.limits.MaxToolsPerServer
		srv.mu.RUnlock()
		if known && old.digest == digest {
			rec.Unchanged++
			continue
		}
		if !known && full {
			skip("tool %q: the server already has %d tools remembered", name.Str, s.limits.MaxToolsPerServer)
			continue
		}
		l := &learned{digest: digest}
		var err error
		if l.Input, err = s.compileLearned(in); err == nil {
			l.Output, err = s.compileLearned(out)
		}
		if err != nil {
			skip("tool %q: %v", name.Str, err)
			continue
		}
		srv.mu.Lock()
		if _, ok := srv.tools[name.Str]; ok || len(srv.tools) < s.limits.MaxToolsPerServer {
			srv.tools[name.Str] = l
			rec.Learned++
		} else {
			rec.Skipped++
		}
		srv.mu.Unlock()
	}
	return rec, nil
}

func (s *Store) compileLearned(r gjson.Result) (*jsonschema.Schema, error) {
	if !r.Exists() || r.Type == gjson.Null {
		return nil, nil
	}
	if len(r.Raw) > s.limits.MaxSchemaBytes {
		return nil, fmt.Errorf("schema of %d bytes is over the %d-byte bound", len(r.Raw), s.limits.MaxSchemaBytes)
	}
	return compile(bytes.TrimSpace([]byte(r.Raw)))
}

// server returns serverID's entry, creating it, and forgetting the least
// recently used server when MaxServers are remembered.
func (s *Store) server(serverID string) *serverSchemas {
	s.mu.Lock()
	defer s.mu.Unlock()
	if srv, ok := s.servers[serverID]; ok {
		srv.lastUsed.Store(s.clock.Add(1))
		return srv
	}
	if len(s.servers) >= s.limits.MaxServers {
		var oldest string
		var oldestUse int64
		first := true
		for id, srv := range s.servers {
			if u := srv.lastUsed.Load(); first || u < oldestUse {
				oldest, oldestUse, first = id, u, false
			}
		}
		delete(s.servers, oldest)
	}
	srv := &serverSchemas{tools: map[string]*learned{}}
	srv.lastUsed.Store(s.clock.Add(1))
	s.servers[serverID] = srv
	return srv
}

// Servers is how many servers are remembered.
func (s *Store) Servers() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.servers)
}
