// Package urlreputation is the built-in url_reputation plugin kind: it finds
// the URLs in tool arguments and results, prompt arguments and results,
// resource URIs and resource contents, and refuses a message when one of
// them names a denied host (deny lists, blocklist files, denied IP ranges,
// URL patterns) or a host of a suspicious shape (mixed-script homoglyphs,
// punycode, raw IP addresses, random-looking names), unless an allow rule
// vouches for it.
//
// Hosts are compared in the form fetchers resolve them to
// (mcpparse.CanonicalHost), so "ＥＶＩＬ．com", "%65vil.com" and
// "EVIL.COM." all meet a rule written for evil.com. It resolves no names,
// follows no redirects and calls no reputation service. It answers to the
// class paths of ContextForge's URLReputationPlugin. Importing the package
// registers the kind.
package urlreputation
