// Package resourcefilter is the built-in resource_filter plugin kind: it
// refuses resources/read requests whose URI uses a protocol that is not
// allowed or names a blocked domain, refuses results larger than a size
// limit, and rewrites text contents with regular-expression filters.
//
// It behaves like ContextForge's ResourceFilterPlugin, whose class path it
// answers to, with the differences listed in README.md. It does not fetch
// anything, resolve names or follow redirects: it judges the URI as written
// and the contents the server returned. Importing the package registers the
// kind.
package resourcefilter
