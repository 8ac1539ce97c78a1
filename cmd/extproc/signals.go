package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// serverSignals is how serve and dev are stopped and reloaded: ctx ends on
// SIGTERM or SIGINT; every SIGHUP sends on reload (coalesced, never
// blocking), which is also what keeps SIGHUP from killing the process.
// stop releases the signals.
func serverSignals() (ctx context.Context, reload <-chan struct{}, stop func()) {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ch := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
	}()
	return ctx, ch, func() {
		signal.Stop(hup)
		cancel()
	}
}
