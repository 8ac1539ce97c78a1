package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// cmdValidate checks a policy file the way the server would load it: the
// file itself, then every enabled plugin's own settings (through its kind's
// factory, which does no I/O, and its Validate: an external plugin's command
// must exist). A plugin the server would start without (an unknown kind, a
// transport it does not have) is an error here. It lists every error of the
// file in one pass — a mistake in one entry does not hide another entry's,
// nor the entry's own config — one per line with its file:line, in file
// order; or it prints a one-line summary.
func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("validate", stderr)
	config := fs.String("config", "", "policy file to check (required)")
	setUsage(fs, "validate --config FILE", "Check a policy file as the server would load it: exit 0 and a one-line summary,\nor exit 1 and every error in the file, each with its file:line.")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *config == "" {
		fmt.Fprintln(stderr, "extproc validate: --config FILE is required")
		return errUsage
	}
	cfg, warns, err := framework.Check(*config, framework.LoadOptions{Strict: true})
	for _, w := range warns {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if cfg == nil {
		printErrors(stderr, err)
		return exitError(1)
	}
	var fileErrs framework.ConfigErrors
	_ = errors.As(err, &fileErrs)
	entryHasErrors := func(i int) bool {
		at := fmt.Sprintf("plugins[%d]", i)
		for _, e := range fileErrs {
			if e.Path == at || strings.HasPrefix(e.Path, at+".") || strings.HasPrefix(e.Path, at+"[") {
				return true
			}
		}
		return false
	}
	var pluginErrs []error
	plugins := 0
	hooks := map[framework.HookType]bool{}
	for i := range cfg.Plugins {
		pc := &cfg.Plugins[i]
		if pc.Mode == framework.ModeDisabled {
			continue
		}
		plugins++
		// An unknown kind is already reported; an external entry is built
		// only when its own keys are right (it checks its command).
		if pc.ResolvedKind == "" || pc.Kind == framework.KindExternal && entryHasErrors(i) {
			continue
		}
		pl, err := framework.Instantiate(pc, nil)
		if err != nil {
			pluginErrs = append(pluginErrs, err)
			continue
		}
		if v, ok := pl.(framework.Validator); ok {
			if err := v.Validate(); err != nil {
				pluginErrs = append(pluginErrs, fmt.Errorf("%s: plugins[%d] %q: %w", pc.Pos(), i, pc.Name, err))
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
	if err != nil || len(pluginErrs) > 0 {
		printErrors(stderr, inFileOrder(*config, append([]error{err}, pluginErrs...)))
		return exitError(1)
	}
	fmt.Fprintf(stdout, "ok: %s, %s (%s)\n", count(plugins, "plugin"), count(len(hooks), "hook"), *config)
	return nil
}

// inFileOrder joins errors, those at a line of the policy file first, by
// line; the others (a Rego file's) after them, in the order found.
func inFileOrder(file string, errs []error) error {
	var at framework.ConfigErrors
	var rest []error
	for _, err := range errs {
		if err == nil {
			continue
		}
		var ces framework.ConfigErrors
		if !errors.As(err, &ces) || ces.Error() != err.Error() {
			rest = append(rest, err)
			continue
		}
		for _, e := range ces {
			if e.File == file && e.Line > 0 {
				at = append(at, e)
			} else {
				rest = append(rest, e)
			}
		}
	}
	slices.SortStableFunc(at, func(a, b *framework.ConfigError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	out := make([]error, 0, len(at)+len(rest))
	for _, e := range at {
		out = append(out, e)
	}
	return errors.Join(append(out, rest...)...)
}

// count writes n and a noun, plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
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
