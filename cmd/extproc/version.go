package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stderr)
	setUsage(fs, "version", "Print the version and build information: Go version, platform, cgo, trimpath, VCS revision.")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "extproc %s\n", version)
	fmt.Fprintf(stdout, "  go:       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(stdout, "  module:   %s\n", bi.Main.Path)
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		// A release binary is static (no cgo) and reproducible (-trimpath).
		fmt.Fprintf(stdout, "  cgo:      %t\n", settings["CGO_ENABLED"] == "1")
		fmt.Fprintf(stdout, "  trimpath: %t\n", settings["-trimpath"] == "true")
		for _, k := range []string{"vcs.revision", "vcs.time", "vcs.modified"} {
			if v, ok := settings[k]; ok {
				fmt.Fprintf(stdout, "  %-9s %s\n", k+":", v)
			}
		}
	}
	return nil
}
