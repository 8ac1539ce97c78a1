package extproc

import (
	"runtime"
	"sync"
	"testing"
)

// growStack must grow a fresh goroutine's stack to hold stackReserve: its
// frame is what asks for it, and the array that makes the frame large is
// in a branch never taken, which a compiler could in principle drop. A
// few hundred goroutines that called it and wait must hold that much
// stack each (a fresh goroutine's stack is 2 KiB).
func TestGrowStackReservesItsFrame(t *testing.T) {
	const n = 512
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var ready, release sync.WaitGroup
	ready.Add(n)
	release.Add(1)
	for range n {
		go func() {
			growStack()
			ready.Done()
			release.Wait()
		}()
	}
	ready.Wait()
	runtime.ReadMemStats(&after)
	release.Done()
	grown := int64(after.StackInuse) - int64(before.StackInuse)
	if perG := grown / n; perG < stackReserve {
		t.Fatalf("goroutines that called growStack hold %d bytes of stack each, want at least %d", perG, stackReserve)
	}
}
