package extproc

import (
	"strconv"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The cached children are the vector's own: what the hot path counts
// through the cache is what a scrape of the vector shows, from any number
// of goroutines at once.
func TestChildrenCountIntoTheVector(t *testing.T) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "x"}, []string{"a", "b"})
	c := newChildren(2, vec.WithLabelValues)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				c.get(labelValues{"p" + strconv.Itoa(i%5), "h" + strconv.Itoa(g%2)}).Inc()
			}
		}()
	}
	wg.Wait()
	if got := testutil.ToFloat64(vec.WithLabelValues("p3", "h1")); got != 80 {
		t.Errorf("p3/h1 = %v, want 80 (4 goroutines × 20)", got)
	}
	if n := testutil.CollectAndCount(vec); n != 10 {
		t.Errorf("%d series, want 10", n)
	}
	if n := len(*c.m.Load()); n != 10 {
		t.Errorf("cache holds %d children, want 10", n)
	}
}

// Past maxCachedChildren the cache stops growing and still counts.
func TestChildrenBounded(t *testing.T) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "y_total", Help: "y"}, []string{"code"})
	c := newChildren(1, vec.WithLabelValues)
	for i := range maxCachedChildren + 10 {
		c.get(labelValues{strconv.Itoa(i)}).Inc()
	}
	c.get(labelValues{strconv.Itoa(maxCachedChildren + 5)}).Inc()
	if n := len(*c.m.Load()); n != maxCachedChildren {
		t.Errorf("cache holds %d children, want %d", n, maxCachedChildren)
	}
	if got := testutil.ToFloat64(vec.WithLabelValues(strconv.Itoa(maxCachedChildren + 5))); got != 2 {
		t.Errorf("uncached child = %v, want 2", got)
	}
}
