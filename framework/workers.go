package framework

import (
	"context"
	"sync"
	"time"
)

// workerPool runs plugin calls that may block (external plugins, kinds that
// call services) on warm goroutines, so a call does not pay for a fresh
// goroutine and its stack growth. It is bounded: a plugin that ignores its
// deadline keeps its worker busy, and when every worker is busy a new call
// waits for one only until its own deadline. Idle workers exit after a
// while.
type workerPool struct {
	jobs chan func()
	mu   sync.Mutex
	n    int // running workers
	max  int
	stop chan struct{}
	once sync.Once
}

// workerIdle is how long a worker waits for a job before it exits.
const workerIdle = 30 * time.Second

func newWorkerPool(maxWorkers int) *workerPool {
	return &workerPool{jobs: make(chan func()), max: maxWorkers, stop: make(chan struct{})}
}

// run hands job to a worker, starting one if none is idle and the bound
// allows. It reports false when ctx ended before a worker took the job.
func (w *workerPool) run(ctx context.Context, job func()) bool {
	select {
	case w.jobs <- job:
		return true
	default:
	}
	w.mu.Lock()
	if w.n < w.max {
		w.n++
		w.mu.Unlock()
		go w.work(job)
		return true
	}
	w.mu.Unlock()
	select {
	case w.jobs <- job:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *workerPool) work(job func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		job()
		idle.Reset(workerIdle)
		select {
		case job = <-w.jobs:
		case <-idle.C:
			w.exit()
			return
		case <-w.stop:
			w.exit()
			return
		}
	}
}

func (w *workerPool) exit() {
	w.mu.Lock()
	w.n--
	w.mu.Unlock()
}

// close lets idle workers exit; busy ones exit after their job.
func (w *workerPool) close() { w.once.Do(func() { close(w.stop) }) }
