package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/internal/scaffold"
)

const modulePath = "github.com/mcp-extproc/mcp-extproc"

// cmdPlugin runs `extproc plugin SUBCOMMAND`; new is the only one.
func cmdPlugin(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelpFlag(args[0]) {
		fmt.Fprintln(stdout, "Usage: extproc plugin new NAME --kind go|external-ts|external-python [--dir DIR]\n\nScaffold a plugin (see extproc plugin new -h).")
		return nil
	}
	if len(args) == 0 || args[0] != "new" {
		fmt.Fprintln(stderr, "usage: extproc plugin new NAME --kind go|external-ts|external-python [--dir DIR]")
		return errUsage
	}
	return cmdPluginNew(args[1:], stdout, stderr)
}

// cmdPluginNew scaffolds a plugin: a built-in kind in plugins/NAME (run it
// from the repository's root; the kind is added to plugins/all), or an
// external plugin server project in ./NAME.
func cmdPluginNew(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plugin new", stderr)
	kind := fs.String("kind", scaffold.KindGo, "go (a built-in kind), external-ts (TypeScript, official MCP SDK) or external-python (cpex)")
	dir := fs.String("dir", "", "where to write it (default plugins/NAME for go, ./NAME otherwise)")
	setUsage(fs, "plugin new NAME --kind go|external-ts|external-python [--dir DIR]",
		"Scaffold a plugin: a built-in kind in plugins/NAME (run from the repository's root; the kind is\n"+
			"added to plugins/all), or an external plugin server project in ./NAME.")
	// NAME may come before or after the flags.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 || name == "" {
		fmt.Fprintln(stderr, "usage: extproc plugin new NAME --kind go|external-ts|external-python [--dir DIR]")
		return errUsage
	}
	p, err := scaffold.NewParams(*kind, name)
	if err != nil {
		return err
	}
	files, err := scaffold.Render(*kind, p)
	if err != nil {
		return err
	}
	out := *dir
	if *kind == scaffold.KindGo {
		if err := checkModuleRoot("."); err != nil {
			return err
		}
		if out == "" {
			out = filepath.Join("plugins", p.Package)
		}
	} else if out == "" {
		out = name
	}
	if err := scaffold.Write(out, files); err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stdout, "wrote", filepath.Join(out, filepath.FromSlash(f.Path)))
	}
	switch *kind {
	case scaffold.KindGo:
		allPath := filepath.Join("plugins", "all", "all.go")
		all, err := os.ReadFile(allPath)
		if err != nil {
			return err
		}
		updated, err := scaffold.RegisterInAll(all, modulePath+"/plugins/"+p.Package)
		if err != nil {
			return err
		}
		if err := os.WriteFile(allPath, updated, 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "added", p.Package, "to", allPath)
		fmt.Fprintf(stdout, "\nnext: go test ./plugins/%s/ && make docs   (the reference and schema pick the kind up)\n", p.Package)
	case scaffold.KindExternalTS:
		fmt.Fprintf(stdout, "\nnext: cd %s && npm ci && npm test\n", out)
	case scaffold.KindExternalPython:
		fmt.Fprintf(stdout, "\nnext: cd %s && python3 -m venv .venv && .venv/bin/pip install --require-hashes -r requirements.txt && .venv/bin/python -m unittest\n", out)
	}
	return nil
}

// checkModuleRoot makes sure a built-in kind lands in this repository.
func checkModuleRoot(dir string) error {
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil || !strings.Contains(string(mod), "module "+modulePath+"\n") {
		return errors.New("run `extproc plugin new --kind go` from the root of the mcp-extproc repository (a built-in kind lives in plugins/)")
	}
	return nil
}
