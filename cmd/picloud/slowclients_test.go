package main

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store/dbtest"
)

// startWithFileLimit starts picloud serve as start does, under a file
// descriptor limit of nofile (soft and hard, as a service manager sets
// it), with the admin password given.
func startWithFileLimit(t *testing.T, db database, nofile int, env ...string) *server {
	t.Helper()
	addr := freePort(t)
	args := append([]string{"-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile), binary, "serve", "--listen", addr}, db.args...)
	return startCmd(t, addr, exec.Command("sh", args...), env)
}

// The attack of issue 15, item 6: 1,100 connections from one address,
// each sending the head of a request and then a byte of its body now and
// then, under the 1,024 file descriptors a service manager commonly
// grants. They used to take every descriptor: accept failed and the API,
// the data plane and /healthz all timed out. Now the connection caps
// refuse the surplus and the slow bodies are cut off, and the others
// answer at once.
func TestSlowClientsDoNotHoldTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,100 connections")
	}
	db := newDatabase(t, dbtest.SQLite)
	s := startWithFileLimit(t, db, 1024, "PICLOUD_ADMIN_PASSWORD=slow-clients-1")
	addr := strings.TrimPrefix(s.url, "http://")

	attacker := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	paths := []string{"/api/v1/auth/login", "/fn/demo/hello", "/healthz"}
	var conns []net.Conn
	for i := range 1100 {
		c, err := attacker.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", paths[i%len(paths)])
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()

	client := &http.Client{Timeout: 3 * time.Second}
	check := func(method, path, body string, want int) {
		t.Helper()
		req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s with 1,100 slow connections open: %v\nstderr: %s", method, path, err, s.stderr)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
		}
		t.Logf("%s %s: %d in %s", method, path, resp.StatusCode, time.Since(start))
	}
	for range 3 {
		check("GET", "/healthz", "", 200)
		check("POST", "/api/v1/auth/login", `{"username":"admin","password":"slow-clients-1"}`, 200)
		check("GET", "/fn/demo/hello", "", 404)
		// Keep trickling, as the attacker does.
		for _, c := range conns {
			c.Write([]byte(" "))
		}
		time.Sleep(time.Second)
	}
}
