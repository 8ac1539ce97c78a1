// Package outputguard is the built-in output_guard plugin kind: it bounds
// how much text a tool result hands to the model, truncating the result or
// refusing it when it is too long, and refusing it when it is too short.
//
// It answers to ContextForge's OutputLengthGuardPlugin class path and reads
// its max_chars, min_chars, strategy, ellipsis and word_boundary settings;
// how limits apply across content blocks and structuredContent is described
// in README.md. Lengths are Unicode characters (code points), not bytes or
// tokens. Importing the package registers the kind.
package outputguard
