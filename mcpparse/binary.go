package mcpparse

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// IsBinary reports whether the string at path inside an MCP result (a
// tools/call, prompts/get or resources/read result object) is binary data as
// MCP's schema defines it:
//
//   - the data of an image or audio content block (content[i].data in a tool
//     result; messages[i].content.data in a prompt result),
//   - the blob of an embedded resource (content[i].resource.blob,
//     messages[i].content.resource.blob) or of a resources/read result
//     (contents[i].blob).
//
// Nothing else is binary, whatever its key: a "data" or "blob" member inside
// structuredContent, an error's data, or a text block's stray "data" field
// is text a model can read. Only results have binary fields: never call it
// for request arguments.
func IsBinary(result []byte, path Path) bool {
	n := len(path)
	if n < 2 || path[n-1].Index != MemberIndex {
		return false
	}
	last := path[n-1].Key
	if last != "data" && last != "blob" {
		return false
	}
	member := func(i int, key string) bool { return path[i].Index == MemberIndex && path[i].Key == key }
	index := func(i int) bool { return path[i].Index >= 0 }
	// block is the gjson path of the content block the string is in, and
	// rest the steps below that block.
	var block string
	var rest Path
	switch {
	case n == 3 && member(0, "contents") && index(1) && last == "blob":
		return true
	case n >= 3 && member(0, "content") && index(1):
		block, rest = "content."+strconv.Itoa(path[1].Index), path[2:]
	case n >= 4 && member(0, "messages") && index(1) && member(2, "content"):
		block, rest = "messages."+strconv.Itoa(path[1].Index)+".content", path[3:]
		if len(rest) >= 2 && rest[0].Index >= 0 { // content as an array of blocks
			block, rest = block+"."+strconv.Itoa(rest[0].Index), rest[1:]
		}
	default:
		return false
	}
	typ := gjson.GetBytes(result, block+".type")
	if typ.Type != gjson.String {
		return false
	}
	switch {
	case len(rest) == 1 && last == "data":
		return typ.Str == "image" || typ.Str == "audio"
	case len(rest) == 2 && last == "blob" && rest[0].Index == MemberIndex && rest[0].Key == "resource":
		return typ.Str == "resource"
	}
	return false
}
