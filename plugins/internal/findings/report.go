package findings

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/textwalk"
)

// MaxFields bounds the JSON paths a Report lists (in a violation, a log
// record).
const MaxFields = 32

// Report sums up the findings of one payload: how many of each type, and
// the paths of the strings that held them — never the values.
type Report struct {
	Counts map[string]int
	Fields []string // at most MaxFields, each once
	Total  int
}

// Add counts one string's findings, of the types given, at field.
func (r *Report) Add(field string, types ...string) {
	if len(types) == 0 {
		return
	}
	if r.Counts == nil {
		r.Counts = map[string]int{}
	}
	for _, t := range types {
		r.Counts[t]++
	}
	r.Total += len(types)
	if len(r.Fields) < MaxFields && !slices.Contains(r.Fields, field) {
		r.Fields = append(r.Fields, field)
	}
}

// Types returns the types found, sorted.
func (r *Report) Types() []string { return slices.Sorted(maps.Keys(r.Counts)) }

// Log writes the report as one record: the hook, the action taken, the
// counts by type and the fields, and the request id.
func (r *Report) Log(ctx context.Context, logger *slog.Logger, level slog.Level, msg string, hook framework.HookType, pc *framework.PluginContext, action string) {
	if !logger.Enabled(ctx, level) {
		return
	}
	types := r.Types()
	// The counts as a group of ints, in the order of types: the same JSON
	// object a map gives, without encoding/json's reflection.
	counts := make([]slog.Attr, len(types))
	for i, t := range types {
		counts[i] = slog.Int(t, r.Counts[t])
	}
	// The record is handed to the handler as it is, without the caller's
	// program counter that Logger.LogAttrs looks up for a source no
	// handler of the server writes: a masked result logs one record, and
	// in an event stream every event may be one.
	rec := slog.NewRecord(time.Now(), level, msg, 0)
	rec.AddAttrs(
		slog.String("hook", string(hook)),
		slog.String("action", action),
		slog.Int("count", r.Total),
		slog.Any("types", types),
		slog.Attr{Key: "counts", Value: slog.GroupValue(counts...)},
		slog.Any("fields", r.Fields),
	)
	if pc != nil && pc.Global != nil && pc.Global.RequestID != "" {
		rec.AddAttrs(slog.String("request_id", pc.Global.RequestID))
	}
	_ = logger.Handler().Handle(ctx, rec)
}

// Detector is what Scan needs of a detector: Find appends the findings of s
// to dst, in order and without overlaps (see Resolve); Type names a
// finding's type; Replace returns s with its findings masked.
type Detector[F any] struct {
	Find    func(s string, dst []F) []F
	Type    func(F) string
	Replace func(s string, fs []F) string
}

// Scan walks the text strings of raw (textwalk.Walk: strings of at least
// minLen bytes, binary data of results left out), adds each string's
// findings to rep under root ("$", or "$._meta" for a resource request's
// _meta) and, with rewrite, replaces the string by d.Replace. It returns
// the rewritten JSON, raw itself when nothing changed.
func Scan[F any](ctx context.Context, pc *framework.PluginContext, kind string, v textwalk.Value, raw []byte, minLen int, root string, rep *Report, d Detector[F], rewrite bool) ([]byte, bool, error) {
	var found []F
	var types []string
	return textwalk.Walk(ctx, pc, kind, v, raw, minLen, func(path mcpparse.Path, s string) (string, bool) {
		found = d.Find(s, found[:0])
		if len(found) == 0 {
			return "", false
		}
		types = types[:0]
		for _, f := range found {
			types = append(types, d.Type(f))
		}
		rep.Add(root+path.String()[1:], types...)
		if !rewrite {
			return "", false
		}
		return d.Replace(s, found), true
	})
}
