package outputguard

import (
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// The text of a tools/call result lives in two places. content holds blocks;
// a "text" block's text and an embedded "resource" block's resource.text are
// what the model reads (images, audio and links are not text).
// structuredContent holds the same data as JSON, which MCP asks servers to
// mirror in a text block; its string values are its text. Each of the two is
// measured, and truncated, on its own.

// part names where a counted string sits.
type part uint8

const (
	partNone part = iota
	partContent
	partStructured
)

// blockType is the type of a content block, as far as counting cares.
type blockType uint8

const (
	blockOther blockType = iota
	blockText
	blockResource
)

// layout is what a first look at a result learns.
type layout struct {
	blockTypes      []blockType // content[i].type
	contentChars    int         // characters of text in content blocks that count
	structuredChars int         // characters of string values in structuredContent
	isError         bool
}

// classify says which part, if any, the string at path counts towards,
// given the content blocks' types.
func classify(path mcpparse.Path, types []blockType) part {
	if len(path) == 0 || path[0].Index != mcpparse.MemberIndex {
		return partNone
	}
	switch path[0].Key {
	case "structuredContent":
		return partStructured
	case "content":
		if len(path) < 3 || path[1].Index < 0 || path[1].Index >= len(types) {
			return partNone
		}
		if blockTextPath(path) == types[path[1].Index] {
			return partContent
		}
	}
	return partNone
}

// blockTextPath says which kind of block's text the path content[i]… would
// be: blockText for content[i].text, blockResource for
// content[i].resource.text, blockOther for anything else.
func blockTextPath(path mcpparse.Path) blockType {
	switch {
	case len(path) == 3 && isMember(path[2], "text"):
		return blockText
	case len(path) == 4 && isMember(path[2], "resource") && isMember(path[3], "text"):
		return blockResource
	}
	return blockOther
}

func isMember(e mcpparse.PathElem, key string) bool {
	return e.Index == mcpparse.MemberIndex && e.Key == key
}

// measure reads a result without changing it. A block's type may follow
// its text, so the characters of content[i].text and
// content[i].resource.text are kept per block and added up by type after.
func measure(t *mcpparse.Text) layout {
	var l layout
	type block struct{ text, resource int }
	var blocks []block
	grow := func(i int) {
		for len(blocks) <= i {
			blocks = append(blocks, block{})
			l.blockTypes = append(l.blockTypes, blockOther)
		}
	}
	for k := range t.Strings {
		path, s := t.Strings[k].Path, t.Strings[k].Value
		if len(path) == 0 || path[0].Index != mcpparse.MemberIndex || path.IsKey() {
			continue
		}
		switch path[0].Key {
		case "structuredContent":
			l.structuredChars += utf8.RuneCountInString(s)
		case "content":
			if len(path) < 3 || path[1].Index < 0 {
				break
			}
			i := path[1].Index
			grow(i)
			switch {
			case len(path) == 3 && isMember(path[2], "type"):
				switch s {
				case "text":
					l.blockTypes[i] = blockText
				case "resource":
					l.blockTypes[i] = blockResource
				}
			case blockTextPath(path) == blockText:
				blocks[i].text += utf8.RuneCountInString(s)
			case blockTextPath(path) == blockResource:
				blocks[i].resource += utf8.RuneCountInString(s)
			}
		}
	}
	for i, b := range blocks {
		switch l.blockTypes[i] {
		case blockText:
			l.contentChars += b.text
		case blockResource:
			l.contentChars += b.resource
		}
	}
	l.isError = gjson.GetBytes(t.Raw(), "isError").Bool()
	return l
}
