// Command extproc is the mcp-extproc binary: the Envoy ext_proc server that
// enforces policy on MCP traffic, and its tools (validate, plugins, version).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `extproc — Envoy ext_proc policy filter for MCP traffic

Usage:
  extproc [serve] [--config FILE] [--listen ADDR] [--metrics-listen ADDR] [--log-level LEVEL]
                                    run the ext_proc server (EXTPROC_CONFIG also names the file;
                                    without either, the embedded default policy runs)
  extproc validate --config FILE    check a policy file: exit 0 and a summary, or 1 and every error
  extproc dev --upstream URL [--listen ADDR] [--config FILE | --extproc ADDR]
                                    DEVELOPMENT AID: an Envoy stand-in and the server in one process
                                    (or in front of a running server), to put a policy in front of an
                                    MCP server without Envoy
  extproc plugins                   list the built-in plugin kinds: hooks, config keys, defaults, aliases
  extproc plugin-server --config FILE (--stdio | --listen ADDR)
                                    serve the config's plugins as an external plugin server (ContextForge wire format)
  extproc pin (--from FILE | --upstream URL) --out pins.yaml [--server-id ID]
                                    write a tool_pin lockfile: the fingerprints of a server's tools
  extproc plugin new NAME --kind go|external-ts|external-python
                                    scaffold a built-in kind (plugins/NAME) or an external plugin project
  extproc version                   print version and build information

Environment: EXTPROC_CONFIG names the policy file; EXTPROC_LISTEN, EXTPROC_METRICS_LISTEN and
EXTPROC_LOG_LEVEL override server.listen, server.metrics_listen and --log-level for any policy
(the flags win over them).

Run "extproc COMMAND -h" (or "extproc help COMMAND") for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && isHelpFlag(args[0]) {
		// extproc -h is the command list, not serve's flags.
		cmd, args = "help", nil
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(args, stdout, stderr)
	case "validate":
		err = cmdValidate(args, stdout, stderr)
	case "plugins":
		err = cmdPlugins(args, stdout, stderr)
	case "dev":
		err = cmdDev(args, stdout, stderr)
	case "plugin-server":
		err = cmdPluginServer(args, stdout, stderr)
	case "pin":
		err = cmdPin(args, stdout, stderr)
	case "plugin":
		err = cmdPlugin(args, stdout, stderr)
	case "version":
		err = cmdVersion(args, stdout, stderr)
	case "help":
		if len(args) > 0 && args[0] != "help" {
			// extproc help COMMAND is extproc COMMAND -h.
			return run([]string{args[0], "-h"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "extproc: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		var ee exitError
		if errors.As(err, &ee) {
			return int(ee)
		}
		fmt.Fprintf(stderr, "extproc %s: %v\n", cmd, err)
		return 1
	}
}

// exitError ends a command with a status after it has printed its own output.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func isHelpFlag(a string) bool { return a == "-h" || a == "-help" || a == "--help" || a == "--h" }

// newFlagSet returns a command's flag set; its -h prints the command's
// synopsis (setUsage) and flags.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("extproc "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs, name, "")
	return fs
}

// setUsage sets what a command's -h prints: "Usage: extproc SYNOPSIS", what
// the command does, and its flags.
func setUsage(fs *flag.FlagSet, synopsis, about string) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: extproc %s\n", synopsis)
		if about != "" {
			fmt.Fprintf(w, "\n%s\n", about)
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
}

// parseFlags parses a command's flags. -h prints the command's usage on
// stdout and returns flag.ErrHelp (exit status 0); a mistake prints the
// message and the usage on stderr and returns errUsage (exit status 2).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	var buf bytes.Buffer
	out := fs.Output()
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = buf.WriteTo(stdout)
			return err
		}
		_, _ = buf.WriteTo(out)
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q (see extproc %s -h)\n", fs.Arg(0), strings.TrimPrefix(fs.Name(), "extproc "))
		return errUsage
	}
	return nil
}
