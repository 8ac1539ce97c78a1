// Package plugins is the home of mcp-extproc's built-in plugin kinds, one
// package per kind (plugins/<kind>), each with its README. Package
// plugins/all links every kind into a binary.
package plugins
