package e2ecluster

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/picloud/picloud/internal/testdeps"
)

// caddyRoute is the part of Caddy's JSON config the test reads: routes
// nest in subroutes; a reverse_proxy handler has upstreams and health
// checks.
type caddyRoute struct {
	Handle []struct {
		Handler   string       `json:"handler"`
		Routes    []caddyRoute `json:"routes"`
		Upstreams []struct {
			Dial string `json:"dial"`
		} `json:"upstreams"`
		HealthChecks *struct {
			Active *struct {
				URI string `json:"uri"`
			} `json:"active"`
		} `json:"health_checks"`
	} `json:"handle"`
}

// The repository's Caddyfile, adapted by Caddy with the settings of a
// loopback deployment: it listens on loopback only (PICLOUD_BIND, no edit
// of the file), and each node is health-checked by one proxy, not one
// per route.
func TestCaddyfile(t *testing.T) {
	if _, err := exec.LookPath("caddy"); err != nil {
		testdeps.Missing(t, "Caddy", "the Caddyfile test adapts it with caddy, which is not on PATH (apt-get install caddy, Debian's package)")
	}
	cmd := exec.Command("caddy", "adapt", "--adapter", "caddyfile", "--config", filepath.Join("..", "deploy", "caddy", "Caddyfile"))
	cmd.Env = append(os.Environ(), "PICLOUD_SITE=http://127.0.0.1:8090", "PICLOUD_BIND=127.0.0.1 ::1",
		"PICLOUD_MANAGERS=127.0.0.1:8080", "PICLOUD_NODES=127.0.0.1:8081 127.0.0.1:8082", "CADDY_ADMIN=off")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("caddy adapt: %v\n%s", err, out)
	}
	var conf struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Listen []string     `json:"listen"`
					Routes []caddyRoute `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &conf); err != nil {
		t.Fatal(err)
	}
	if len(conf.Apps.HTTP.Servers) != 1 {
		t.Fatalf("%d servers, want 1:\n%s", len(conf.Apps.HTTP.Servers), out)
	}
	checks := map[string]int{} // upstream → proxies that health-check it
	for _, srv := range conf.Apps.HTTP.Servers {
		if want := []string{"127.0.0.1:8090", "[::1]:8090"}; !slices.Equal(srv.Listen, want) {
			t.Errorf("listen %q, want %q", srv.Listen, want)
		}
		var walk func([]caddyRoute)
		walk = func(routes []caddyRoute) {
			for _, r := range routes {
				for _, h := range r.Handle {
					walk(h.Routes)
					if h.Handler != "reverse_proxy" || h.HealthChecks == nil || h.HealthChecks.Active == nil {
						continue
					}
					for _, u := range h.Upstreams {
						checks[u.Dial]++
					}
				}
			}
		}
		walk(srv.Routes)
	}
	for _, node := range []string{"127.0.0.1:8081", "127.0.0.1:8082", "127.0.0.1:8080"} {
		if checks[node] != 1 {
			t.Errorf("%s is health-checked by %d proxies, want 1 (all: %v)", node, checks[node], checks)
		}
	}
}
