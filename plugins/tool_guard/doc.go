// Package toolguard is the built-in tool_guard plugin kind: it scans the
// tools, prompts and resources a server lists for the marks of tool
// poisoning (invisible or direction-changing characters, instruction
// injection phrases, references to secret files, oversized descriptions)
// and hides, blocks or reports them before an agent reads them. A hidden
// item is also refused when called by name.
//
// It reads list results and the names of later calls only; it does not look
// at call arguments or results (output_guard and the content plugins do).
// Importing the package registers the kind.
package toolguard
