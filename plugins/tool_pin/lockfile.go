package toolpin

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/tidwall/gjson"
	"go.yaml.in/yaml/v3"
)

// AnyServer is the lockfile's server key for servers without their own entry.
const AnyServer = "*"

// Lockfile is the pins_file: per server id, per tool name, the tool's
// Fingerprint.
//
//	version: 1
//	servers:
//	  "*":
//	    tools:
//	      get_weather: 9f2c…   # 64 hex digits
type Lockfile struct {
	Version int                   `yaml:"version"`
	Servers map[string]ServerPins `yaml:"servers"`
}

// ServerPins are the pinned tools of one server.
type ServerPins struct {
	Tools map[string]string `yaml:"tools"`
}

var hexFingerprint = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ReadLockfile reads and checks a lockfile. Errors name the file and the
// entry at fault.
func ReadLockfile(path string) (*Lockfile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lf, err := ParseLockfile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lf, nil
}

// ParseLockfile decodes and checks a lockfile strictly: unknown keys, a
// version other than 1 and fingerprints that are not 64 lower-case hex
// digits are errors.
func ParseLockfile(b []byte) (*Lockfile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var lf Lockfile
	if err := dec.Decode(&lf); err != nil {
		return nil, fmt.Errorf("decode lockfile: %w", err)
	}
	if lf.Version != 1 {
		return nil, fmt.Errorf("version: %d is not supported (want 1)", lf.Version)
	}
	for server, sp := range lf.Servers {
		for name, fp := range sp.Tools {
			if name == "" {
				return nil, fmt.Errorf("servers[%q].tools: a tool name is empty", server)
			}
			if !hexFingerprint.MatchString(fp) {
				return nil, fmt.Errorf("servers[%q].tools[%q]: %q is not a SHA-256 fingerprint (64 lower-case hex digits)", server, name, fp)
			}
		}
	}
	return &lf, nil
}

// Pins returns the pins that apply to a server: its own entry, else the
// "*" entry; ok is false when there is neither.
func (lf *Lockfile) Pins(server string) (map[string]string, bool) {
	if sp, ok := lf.Servers[server]; ok {
		return sp.Tools, true
	}
	sp, ok := lf.Servers[AnyServer]
	return sp.Tools, ok
}

// entry is Pins with the key of the entry used ("" when none applies).
func (lf *Lockfile) entry(server string) (map[string]string, string) {
	if sp, ok := lf.Servers[server]; ok {
		return sp.Tools, "=" + server
	}
	if sp, ok := lf.Servers[AnyServer]; ok {
		return sp.Tools, AnyServer
	}
	return nil, ""
}

// Pin records the fingerprint of every tool of a tools array under server
// ("" means AnyServer).
func (lf *Lockfile) Pin(server string, tools []byte) error {
	if server == "" {
		server = AnyServer
	}
	arr := gjson.ParseBytes(tools)
	if !arr.IsArray() {
		return errors.New("tools is not a JSON array")
	}
	if lf.Servers == nil {
		lf.Servers = map[string]ServerPins{}
	}
	sp := lf.Servers[server]
	if sp.Tools == nil {
		sp.Tools = map[string]string{}
	}
	var err error
	arr.ForEach(func(_, t gjson.Result) bool {
		name := t.Get("name")
		if name.Type != gjson.String || name.Str == "" {
			err = fmt.Errorf("a tool has no name: %.60s", t.Raw)
			return false
		}
		var fp string
		if fp, err = Fingerprint([]byte(t.Raw)); err != nil {
			err = fmt.Errorf("tool %q: %w", name.Str, err)
			return false
		}
		sp.Tools[name.Str] = fp
		return true
	})
	lf.Servers[server] = sp
	lf.Version = 1
	return err
}

// Marshal writes the lockfile as YAML, servers and tools in sorted order.
func (lf *Lockfile) Marshal() ([]byte, error) {
	var b strings.Builder
	b.WriteString("# tool_pin lockfile, written by `extproc pin`. A fingerprint is the hex SHA-256 of the\n")
	b.WriteString("# RFC 8785 canonical JSON of the tool's name, title, description, inputSchema,\n")
	b.WriteString("# outputSchema and annotations (see plugins/tool_pin/README.md).\n")
	b.WriteString("version: 1\nservers:\n")
	for _, server := range slices.Sorted(mapKeys(lf.Servers)) {
		fmt.Fprintf(&b, "  %s:\n    tools:\n", yamlString(server))
		tools := lf.Servers[server].Tools
		if len(tools) == 0 {
			b.WriteString("      {}\n")
		}
		for _, name := range slices.Sorted(mapKeys(tools)) {
			fmt.Fprintf(&b, "      %s: %s\n", yamlString(name), tools[name])
		}
	}
	out := []byte(b.String())
	if _, err := ParseLockfile(out); err != nil { // what we write must read back
		return nil, fmt.Errorf("lockfile does not read back: %w", err)
	}
	return out, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// yamlString quotes s as a YAML double-quoted scalar (JSON string syntax is
// valid YAML).
func yamlString(s string) string {
	return string(appendString(nil, s))
}

// ToolsOf finds the tools array in a saved tools/list result ({"tools":
// […]}) or a whole JSON-RPC response ({"jsonrpc":"2.0","result":{…}}).
func ToolsOf(doc []byte) ([]byte, error) {
	if !gjson.ValidBytes(doc) {
		return nil, errors.New("not valid JSON")
	}
	d := gjson.ParseBytes(doc)
	if e := d.Get("error"); e.Exists() {
		return nil, fmt.Errorf("the response is a JSON-RPC error: %s", e.Raw)
	}
	if r := d.Get("result"); r.IsObject() {
		d = r
	}
	t := d.Get("tools")
	if !t.IsArray() {
		return nil, errors.New(`no "tools" array: want a tools/list result or a JSON-RPC response carrying one`)
	}
	return []byte(t.Raw), nil
}
