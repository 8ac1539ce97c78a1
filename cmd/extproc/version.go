package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "extproc %s\n", version)
	fmt.Fprintf(stdout, "  go:       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(stdout, "  module:   %s\n", bi.Main.Path)
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision", "vcs.time", "vcs.modified":
				fmt.Fprintf(stdout, "  %-9s %s\n", s.Key+":", s.Value)
			}
		}
	}
	return nil
}
