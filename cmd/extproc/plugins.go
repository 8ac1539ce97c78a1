package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// cmdPlugins lists the built-in kinds: what each is for, its hooks, its
// config keys with their defaults, and the names it also answers to.
func cmdPlugins(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plugins", stderr)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	kinds := framework.DefaultRegistry().Kinds()
	fmt.Fprintf(stdout, "%d built-in plugin kinds (and kind: external, for plugins served over MCP)\n", len(kinds))
	for _, k := range kinds {
		fmt.Fprintf(stdout, "\n%s — %s\n", k.Name, k.Description)
		hs := make([]string, len(k.Hooks))
		for i, h := range k.Hooks {
			hs[i] = string(h)
		}
		fmt.Fprintf(stdout, "  hooks:   %s\n", strings.Join(hs, ", "))
		if len(k.Aliases) > 0 {
			fmt.Fprintf(stdout, "  aliases: %s\n", strings.Join(k.Aliases, ", "))
		}
		if keys := k.ConfigKeys(); len(keys) > 0 {
			fmt.Fprintln(stdout, "  config:")
			for _, c := range keys {
				fmt.Fprintf(stdout, "    %-22s %-16s default %s\n", c.Name, c.Type, c.Default)
			}
		}
	}
	return nil
}
