package extproc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchFile calls onChange when the content of path changes. It watches the
// file's directory, not the file, so that it sees a Kubernetes ConfigMap
// update — which swaps the ..data symlink rather than writing the file — as
// well as editors that replace files by rename. Events are debounced and a
// change is reported only when the bytes differ.
func watchFile(ctx context.Context, path string, debounce time.Duration, onChange func(), onError func(error)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := w.Add(dir); err != nil {
		w.Close()
		return err
	}
	// A symlinked file (ConfigMap: config.yaml -> ..data/config.yaml) changes
	// when its target's directory does; watch that too.
	if real, err := filepath.EvalSymlinks(path); err == nil && filepath.Dir(real) != dir {
		_ = w.Add(filepath.Dir(real))
	}
	last := digest(path)
	go func() {
		defer w.Close()
		var timer <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-w.Events:
				if !ok {
					return
				}
				timer = time.After(debounce)
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				onError(err)
			case <-timer:
				timer = nil
				if real, err := filepath.EvalSymlinks(path); err == nil {
					_ = w.Add(filepath.Dir(real)) // the ..data target moves on every swap
				}
				if d := digest(path); d != nil && !bytes.Equal(d, last) {
					last = d
					onChange()
				}
			}
		}
	}()
	return nil
}

func digest(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(b)
	return sum[:]
}
