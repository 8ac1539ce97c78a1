package extproc

import (
	"unicode/utf8"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// MetadataNamespace is the Envoy dynamic metadata namespace the server writes
// to: access logs read %DYNAMIC_METADATA(mcp_extproc:verdict)%, RBAC and
// later filters match on it. Envoy accepts it only when the ext_proc
// filter's metadata_options.receiving_namespaces lists it.
const MetadataNamespace = "mcp_extproc"

// maxMetadataValue bounds each value: names come from the client.
const maxMetadataValue = 256

// exchangeFacts is what an exchange tells Envoy about itself as dynamic
// metadata: the first hooked message's method and tool, prompt or resource
// name, the verdict over all its messages and results, and the first
// violation's plugin and code. Never payload contents.
type exchangeFacts struct {
	method, name         string
	family               mcpparse.Family // whose name name is (FamilyNone: none)
	verdict              string
	plugin, code, reason string
	changed              bool // since the last response that carried them
}

// verdictRank orders verdicts: an exchange's verdict is the strongest one.
var verdictRank = map[string]int{OutcomeAllowed: 1, OutcomeModified: 2, OutcomeBlocked: 3, OutcomeRejected: 4}

func (f *exchangeFacts) setVerdict(v string) {
	if verdictRank[v] > verdictRank[f.verdict] {
		f.verdict, f.changed = v, true
	}
}

// message records a hooked request and what its pre hooks decided.
func (f *exchangeFacts) message(m *mcpparse.Message, outcome string) {
	if m.Family == mcpparse.FamilyNone {
		return
	}
	if f.method == "" {
		f.method, f.changed = m.Method, true
		if t, err := m.Target(); err == nil {
			f.family, f.name = t.Family, t.Name
		}
	}
	f.setVerdict(outcome)
}

// result records what a post hook decided about a result.
func (f *exchangeFacts) result(hook framework.HookType, name string, v *framework.Violation, modified bool) {
	if f.method == "" {
		f.method, f.changed = hookMethod(hook), true
		f.family, f.name = hook.Family(), name
	}
	switch {
	case v != nil:
		f.violation(v)
	case modified:
		f.setVerdict(OutcomeModified)
	default:
		f.setVerdict(OutcomeAllowed)
	}
}

// violation records a block.
func (f *exchangeFacts) violation(v *framework.Violation) {
	f.setVerdict(OutcomeBlocked)
	if f.code == "" {
		f.plugin, f.code, f.changed = v.Plugin, v.Code, true
	}
}

// rejected records a body refused before any plugin ran.
func (f *exchangeFacts) rejected(reason string) {
	f.setVerdict(OutcomeRejected)
	if f.reason == "" {
		f.reason, f.changed = reason, true
	}
}

// withMetadata puts the facts, when they changed, on the last response of
// a phase: Envoy merges each response's metadata into the namespace.
func (e *exchange) withMetadata(out []*extprocv3.ProcessingResponse) []*extprocv3.ProcessingResponse {
	f := &e.facts
	if !f.changed || len(out) == 0 {
		return out
	}
	f.changed = false
	// The namespace's Struct, in protobuf's wire format, written on the
	// stack (its fields are at most 7 × 256 bytes and their keys).
	var scratch [2048]byte
	ns := scratch[:0]
	add := func(k, v string) {
		if v != "" {
			ns = appendStringField(ns, k, bounded(v))
		}
	}
	add("method", f.method)
	if f.family != mcpparse.FamilyNone {
		add(f.family.String(), f.name) // tool, prompt or resource
	}
	add("verdict", f.verdict)
	add("plugin", f.plugin)
	add("violation_code", f.code)
	add("reject_reason", f.reason)
	add("request_id", e.global.RequestID)
	setDynamicMetadata(out[len(out)-1], ns)
	return out
}

// The dynamic metadata is written in protobuf's wire format by hand and
// carried as the answer's unknown field, which protobuf marshals as it
// stands: gRPC encodes it at the cost of a copy, where a structpb.Struct —
// two maps of Values — took 5.5 µs per answer (ten times the rest of a
// CONTINUE). Envoy, and any client, reads it as the dynamic_metadata field
// (TestDynamicMetadata* read it back through gRPC).
//
// google.protobuf.Struct is {map<string, Value> fields = 1}, a map entry
// is {string key = 1; Value value = 2}, and Value holds string_value = 3
// or struct_value = 5.
var dynamicMetadataField = (&extprocv3.ProcessingResponse{}).ProtoReflect().Descriptor().Fields().ByName("dynamic_metadata").Number()

const (
	structFields protowire.Number = 1
	entryKey     protowire.Number = 1
	entryValue   protowire.Number = 2
	valueString  protowire.Number = 3
	valueStruct  protowire.Number = 5
)

// appendStringField appends the Struct field k: string v to b.
func appendStringField(b []byte, k, v string) []byte { return appendEntry(b, k, valueString, v) }

// entrySizes returns the sizes appendEntry writes for the field k: a Value
// whose field f holds n bytes: the Value's, and the map entry's.
func entrySizes(k string, f protowire.Number, n int) (val, entry int) {
	val = protowire.SizeTag(f) + protowire.SizeBytes(n)
	entry = protowire.SizeTag(entryKey) + protowire.SizeBytes(len(k)) + protowire.SizeTag(entryValue) + protowire.SizeBytes(val)
	return val, entry
}

// appendEntry appends the Struct field k: a Value whose field f (its
// string or its Struct) holds payload.
func appendEntry[T ~string | ~[]byte](b []byte, k string, f protowire.Number, payload T) []byte {
	val, entry := entrySizes(k, f, len(payload))
	b = protowire.AppendTag(b, structFields, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(entry))
	b = protowire.AppendTag(b, entryKey, protowire.BytesType)
	b = protowire.AppendString(b, k)
	b = protowire.AppendTag(b, entryValue, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(val))
	b = protowire.AppendTag(b, f, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(payload)))
	return append(b, payload...)
}

// setDynamicMetadata sets r's dynamic metadata to {MetadataNamespace: ns},
// ns being a Struct's encoding.
func setDynamicMetadata(r *extprocv3.ProcessingResponse, ns []byte) {
	// One allocation, of the field's exact size: the namespace's entry
	// (appendEntry's layout) inside the dynamic_metadata field.
	_, entry := entrySizes(MetadataNamespace, valueStruct, len(ns))
	st := protowire.SizeTag(structFields) + protowire.SizeBytes(entry)
	b := protowire.AppendTag(make([]byte, 0, protowire.SizeTag(dynamicMetadataField)+protowire.SizeBytes(st)), dynamicMetadataField, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(st))
	b = appendEntry(b, MetadataNamespace, valueStruct, ns)
	m := r.ProtoReflect()
	if u := m.GetUnknown(); len(u) > 0 {
		b = append(u, b...)
	}
	m.SetUnknown(b)
}

func bounded(s string) string {
	if len(s) <= maxMetadataValue {
		return s
	}
	cut := maxMetadataValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func hookMethod(h framework.HookType) string {
	switch h.Family() {
	case mcpparse.FamilyTool:
		return "tools/call"
	case mcpparse.FamilyPrompt:
		return "prompts/get"
	case mcpparse.FamilyResource:
		return "resources/read"
	}
	return ""
}
