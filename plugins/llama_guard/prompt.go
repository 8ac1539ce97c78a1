package llamaguard

import (
	"strings"
)

// Roles of the model card's conversation.
const (
	roleUser  = "User"
	roleAgent = "Agent"
)

// turn is one message of the conversation assessed.
type turn struct {
	role string // roleUser or roleAgent
	text string
}

// modelCardPrompt writes the prompt of the Llama Guard 3 model card: the
// task naming the role assessed, the categories, the conversation and the
// instruction. The special tokens around it (begin of text, the user and
// assistant headers) are the server's chat template's to add.
func modelCardPrompt(role string, cats []Category, turns []turn) string {
	var b strings.Builder
	b.WriteString("Task: Check if there is unsafe content in '" + role +
		"' messages in conversations according our safety policy with the below categories.\n\n<BEGIN UNSAFE CONTENT CATEGORIES>\n")
	for _, c := range cats {
		b.WriteString(c.Code + ": " + c.Name + ".\n")
	}
	b.WriteString("<END UNSAFE CONTENT CATEGORIES>\n\n<BEGIN CONVERSATION>\n\n")
	for _, t := range turns {
		b.WriteString(t.role + ": " + neutralise(t.text) + "\n\n")
	}
	b.WriteString("<END CONVERSATION>\n\nProvide your safety assessment for ONLY THE LAST " + role +
		" message in the above conversation:\n - First line must read 'safe' or 'unsafe'.\n - If unsafe, a second line must include a comma-separated list of violated categories.")
	return b.String()
}

// neutralise keeps a message from rewriting the prompt around it: special
// tokens (<|eot_id|>, <|start_header_id|>) are broken up, so that a
// tokenizer that parses them in text cannot end the turn; the prompt's
// block markers (<BEGIN …>, <END …>) are broken up; and blank lines are
// dropped and every line after the first indented, so that no line of the
// message can pose as a turn of its own ("Agent: …", "User: …").
func neutralise(s string) string {
	s = strings.ReplaceAll(s, "<|", "< |")
	s = strings.ReplaceAll(s, "<BEGIN", "< BEGIN")
	s = strings.ReplaceAll(s, "<END", "< END")
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var b strings.Builder
	first := true
	for line := range strings.Lines(strings.ReplaceAll(s, "\r", "\n")) {
		line = strings.TrimRight(line, "\n")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if !first {
			b.WriteString("\n  ")
		}
		b.WriteString(line)
		first = false
	}
	return b.String()
}
