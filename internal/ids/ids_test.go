package ids

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestIDs(t *testing.T) {
	var g Generator
	now := time.UnixMilli(1_700_000_000_123)
	prev := ""
	for i := range 10_000 {
		id := g.Next(now)
		if len(id) != Len || strings.Trim(id, Alphabet) != "" || id[0] > '7' {
			t.Fatalf("malformed id %q", id)
		}
		if id <= prev {
			t.Fatalf("id %d %q not after %q", i, id, prev)
		}
		prev = id
	}
	// The prefix is the timestamp, so a later millisecond sorts after;
	// an earlier clock reading does not go back.
	later := g.Next(now.Add(time.Millisecond))
	if later <= prev || later[:10] == prev[:10] {
		t.Fatalf("later id %q vs %q", later, prev)
	}
	if back := g.Next(now); back <= later {
		t.Fatalf("clock going back gave %q after %q", back, later)
	}
	var ms uint64
	for _, c := range later[:10] {
		ms = ms<<5 | uint64(strings.IndexRune(Alphabet, c))
	}
	if ms != 1_700_000_000_124 {
		t.Fatalf("decoded timestamp %d", ms)
	}
	// Two generators (two processes) start from random points.
	var g2 Generator
	if a, b := g2.Next(now.Add(time.Hour)), (&Generator{}).Next(now.Add(time.Hour)); a == b {
		t.Fatalf("two generators made %q", a)
	}
}

func TestIDsConcurrent(t *testing.T) {
	var g Generator
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				id := g.Next(time.Now())
				mu.Lock()
				if seen[id] {
					t.Errorf("duplicate %q", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestNewSourceIsIncreasing(t *testing.T) {
	next := New()
	a, b := next(), next()
	if len(a) != Len || b <= a {
		t.Fatalf("ids %q then %q", a, b)
	}
}
