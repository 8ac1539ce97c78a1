package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// cmdValidate checks a policy file the way the server would load it: the
// file itself, then every enabled plugin's own settings (through its kind's
// factory, which does no I/O, and its Validate: an external plugin's command
// must exist). A plugin the server would start without (an unknown kind, a
// transport it does not have) is an error here. It prints every error, one
// per line with its file:line, or a one-line summary.
func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("validate", stderr)
	config := fs.String("config", "", "policy file to check (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *config == "" {
		fmt.Fprintln(stderr, "extproc validate: --config FILE is required")
		return errUsage
	}
	cfg, warns, err := framework.Load(*config, framework.LoadOptions{Strict: true})
	for _, w := range warns {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err != nil {
		printErrors(stderr, err)
		return exitError(1)
	}
	var errs []error
	plugins := 0
	hooks := map[framework.HookType]bool{}
	for i := range cfg.Plugins {
		pc := &cfg.Plugins[i]
		if pc.Mode == framework.ModeDisabled {
			continue
		}
		plugins++
		pl, err := framework.Instantiate(pc, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v, ok := pl.(framework.Validator); ok {
			if err := v.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s: plugins[%d] %q: %w", pc.Pos(), i, pc.Name, err))
				continue
			}
		}
		if pc.Kind == framework.KindExternal {
			// An external plugin's hooks are known once it is reached; count
			// the ones the file lists, or all of them.
			list := pc.Hooks
			if len(list) == 0 {
				list = framework.Hooks
			}
			for _, h := range list {
				hooks[h] = true
			}
			continue
		}
		for _, h := range framework.ImplementedHooks(pl) {
			if len(pc.Hooks) == 0 || slices.Contains(pc.Hooks, h) {
				hooks[h] = true
			}
		}
	}
	if len(errs) > 0 {
		printErrors(stderr, errors.Join(errs...))
		return exitError(1)
	}
	fmt.Fprintf(stdout, "ok: %d plugins, %d hooks (%s)\n", plugins, len(hooks), *config)
	return nil
}

// printErrors writes each error of a (possibly joined) error on its own line.
func printErrors(w io.Writer, err error) {
	var ces framework.ConfigErrors
	if errors.As(err, &ces) && ces.Error() == err.Error() {
		for _, e := range ces {
			fmt.Fprintf(w, "error: %s\n", e)
		}
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			printErrors(w, e)
		}
		return
	}
	fmt.Fprintf(w, "error: %s\n", err)
}
