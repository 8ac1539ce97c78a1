// Package toolpin is the built-in tool_pin plugin kind, a defence against
// "rug pulls": a server that changes a tool's definition after it was
// reviewed. Tools are pinned by fingerprint in a lockfile (pins_file); a
// listed tool whose definition differs from its pin is hidden and refused,
// and, with on_new: block, so is a tool the lockfile does not know.
//
// Fingerprint and Lockfile are also what `extproc pin` writes lockfiles
// with. Importing the package registers the kind.
package toolpin
