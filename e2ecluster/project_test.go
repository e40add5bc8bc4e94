package e2ecluster

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// projectDeploy deploys a project folder through Caddy with the real pic,
// twice, while both nodes serve its importer under load: a release goes
// live all at once, so no answer ever mixes one release's importer with
// the other's module (issue 18).
func projectDeploy(t *testing.T, c *cluster, pic *pic) {
	dir := filepath.Join(t.TempDir(), "shop")
	write := func(name, src string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	release := func(n string) {
		write("picloud.toml", "app = \"shop\"\n\n[scripts.price]\nvisibility = \"private\"\n")
		write("price.rhai", "fn tag() { \""+n+"\" }\n")
		write("cart.rhai", "import \"price\" as p;\n\"cart"+n+"-\" + p::tag()\n")
	}
	release("1")
	out := pic.run(t, "", "deploy", dir, "-m", "one")
	if !strings.Contains(out, "create\tapp\tshop") || !strings.Contains(out, "create\tscript\tcart") {
		t.Fatalf("the first plan:\n%s", out)
	}
	for _, n := range c.nodes {
		if code, body, err := get(n.url + "/fn/shop/cart"); err != nil || code != 200 || body != "cart1-1" {
			t.Fatalf("node %d after release 1: %d %q %v", n.index, code, body, err)
		}
	}

	// Load through Caddy while release 2 changes both scripts.
	var (
		stop   atomic.Bool
		mu     sync.Mutex
		seen   = map[string]int{}
		failed []string
		wg     sync.WaitGroup
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				code, body, err := get(c.front + "/fn/shop/cart")
				mu.Lock()
				if err != nil || code != 200 {
					failed = append(failed, body)
				} else {
					seen[body]++
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	release("2")
	pic.run(t, "", "deploy", dir, "-m", "two")
	deployed := time.Now()
	for {
		mu.Lock()
		done := seen["cart2-2"] > 50
		mu.Unlock()
		if done || time.Since(deployed) > 5*time.Second {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if len(failed) > 0 {
		t.Errorf("%d requests failed during the deploy, first %q", len(failed), failed[0])
	}
	for body, n := range seen {
		if body != "cart1-1" && body != "cart2-2" {
			t.Errorf("%d answers %q: an importer of one release ran with the other's module", n, body)
		}
	}
	if seen["cart2-2"] == 0 {
		t.Errorf("release 2 never served within 5 s: %v", seen)
	}
	t.Logf("answers during the deploy: %v", seen)
	if out := pic.run(t, "", "deploy", dir); !strings.Contains(out, "unchanged\tscript\tcart") {
		t.Errorf("the redeploy of the same folder:\n%s", out)
	}
	if out := pic.run(t, "", "releases", "ls", "shop"); strings.Count(out, "\n") != 3 {
		t.Errorf("pic releases ls shop: want a header and 2 releases\n%s", out)
	}
}
