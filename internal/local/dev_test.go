package local_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/local"
)

// syncBuffer is a log that tests read while pic dev writes it.
type syncBuffer struct {
	mu    sync.Mutex
	b     strings.Builder
	wrote chan struct{} // closed and replaced at every write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wrote != nil {
		close(s.wrote)
		s.wrote = nil
	}
	return s.b.Write(p)
}

// waitFor waits until the log holds want and returns it.
func (s *syncBuffer) waitFor(t testing.TB, want string) string {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		log := s.b.String()
		if s.wrote == nil {
			s.wrote = make(chan struct{})
		}
		wrote := s.wrote
		s.mu.Unlock()
		if strings.Contains(log, want) {
			return log
		}
		select {
		case <-wrote:
		case <-timeout:
			t.Fatalf("the log lacks %q after 5s:\n%s", want, log)
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// devServer is a pic dev of a test, with a signal per reload.
type devServer struct {
	*local.Dev
	log      *syncBuffer
	reloaded chan struct{}
}

func startDev(t testing.TB, dir string, opts local.DevOptions) *devServer {
	t.Helper()
	d := &devServer{log: &syncBuffer{}, reloaded: make(chan struct{}, 100)}
	opts.Dir, opts.Listen, opts.Log = dir, "127.0.0.1:0", d.log
	opts.OnReload = func() { d.reloaded <- struct{}{} }
	dev, err := local.StartDev(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	d.Dev = dev
	t.Cleanup(func() { dev.Close(context.Background()) })
	return d
}

// get calls a script and returns its status and body.
func (d *devServer) get(t testing.TB, script string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + d.Addr() + "/fn/" + d.App() + "/" + script)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// save writes a file and waits for the reload it causes.
func (d *devServer) save(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.reloaded:
	case <-time.After(5 * time.Second):
		t.Fatalf("no reload 5s after writing %s", path)
	}
}

func TestDevReloads(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"picloud.toml": "app = \"shop\"\n[secrets]\nrequired = [\"API_TOKEN\", \"OTHER\"]\n",
		"hello.rhai":   `print("hi from v1"); "v1"`,
		"key.rhai":     `print("token " + secret("API_TOKEN")); secret("API_TOKEN").len()`,
		".env":         "# the local secrets\nAPI_TOKEN=\"abc123\"\n",
	})
	d := startDev(t, dir, local.DevOptions{})
	if _, body := d.get(t, "hello"); body != "v1" {
		t.Fatalf("hello = %q, want v1", body)
	}
	if log := d.log.String(); !strings.Contains(log, "warning: the secret OTHER that picloud.toml requires is not in the env file") ||
		strings.Contains(log, "secret API_TOKEN that") {
		t.Errorf("the warning of a missing secret:\n%s", log)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+d.Addr()+"/fn/shop/hello", nil)
	req.Header.Set("X-Picloud-Async", "1")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("an async call: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	d.log.waitFor(t, "POST /fn/shop/hello (async, attempt 1) 200")
	if status, _ := d.get(t, "nope"); status != http.StatusNotFound {
		t.Errorf("an unknown script answers %d, want 404", status)
	}
	d.log.waitFor(t, "GET /fn/shop/nope 404")
	if _, body := d.get(t, "key"); body != "6" {
		t.Errorf("key = %q, want 6 (the secret from .env)", body)
	}
	hello := filepath.Join(dir, "hello.rhai")
	d.save(t, hello, `"v2"`)
	if _, body := d.get(t, "hello"); body != "v2" {
		t.Fatalf("after the save, hello = %q, want v2", body)
	}
	d.save(t, hello, "let x = ;\n")
	log := d.log.String()
	if !strings.Contains(log, "hello.rhai:1:9:") || !strings.Contains(log, "    let x = ;\n            ^") {
		t.Errorf("log lacks the compile error with its caret:\n%s", log)
	}
	if _, body := d.get(t, "hello"); body != "v2" {
		t.Errorf("after a broken save, hello = %q, want the last good v2", body)
	}
	d.save(t, filepath.Join(dir, "picloud.toml"), "app = \"shop\"\nnope = 1\n")
	if !strings.Contains(d.log.String(), "picloud.toml:2:1:") {
		t.Errorf("log lacks the manifest error:\n%s", d.log.String())
	}
	d.save(t, filepath.Join(dir, "picloud.toml"), "app = \"shop\"\n[secrets]\nrequired = [\"API_TOKEN\"]\n")
	d.save(t, hello, `"v3"`)
	if _, body := d.get(t, "hello"); body != "v3" {
		t.Errorf("after the fix, hello = %q, want v3", body)
	}
	d.log.waitFor(t, "GET /fn/shop/hello 200")
	d.log.waitFor(t, "  | hi from v1")
	log = d.log.waitFor(t, "  | token [secret API_TOKEN]")
	if strings.Contains(log, "abc123") {
		t.Errorf("the secret's value is in the log:\n%s", log)
	}
}

// A restart keeps the key-value store; --fresh empties it.
func TestDevKeepsState(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"picloud.toml": "app = \"kept\"\n", "count.rhai": `kv::incr("n")`})
	for i, want := range []string{"1", "2"} {
		d := startDev(t, dir, local.DevOptions{Fresh: i == 0})
		if _, body := d.get(t, "count"); body != want {
			t.Errorf("start %d: count = %q, want %s", i, body, want)
		}
		d.Close(context.Background())
	}
	d := startDev(t, dir, local.DevOptions{Fresh: true})
	if _, body := d.get(t, "count"); body != "1" {
		t.Errorf("after --fresh: count = %q, want 1", body)
	}
}

func TestParseEnv(t *testing.T) {
	got, err := local.ParseEnv(".env", []byte("# c\n\nA=1\nexport B = 'two words'\nC=\"x=y\"\n"))
	if err != nil || got["A"] != "1" || got["B"] != "two words" || got["C"] != "x=y" || len(got) != 3 {
		t.Errorf("got %v, %v", got, err)
	}
	for in, want := range map[string]string{
		"A=1\nnot a line\n": ".env:2: want NAME=value",
		"lower=1\n":         `.env:1: "lower" is not a secret name`,
	} {
		if _, err := local.ParseEnv(".env", []byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in, err, want)
		}
	}
}

// BenchmarkReload measures the time from a file's write to the first
// request that runs the new source, over b.N saves (run it with
// -benchtime=50x): the median and the max.
func BenchmarkReload(b *testing.B) {
	dir := b.TempDir()
	writeFiles(b, dir, map[string]string{"picloud.toml": "app = \"bench\"\n", "hello.rhai": `"0"`})
	d := startDev(b, dir, local.DevOptions{})
	hello := filepath.Join(dir, "hello.rhai")
	var took []time.Duration
	b.ResetTimer()
	for i := range b.N {
		want := strings.Repeat("x", 1+i%7) + string(rune('a'+i%26))
		start := time.Now()
		if err := os.WriteFile(hello, []byte(`"`+want+`"`), 0o644); err != nil {
			b.Fatal(err)
		}
		for {
			if _, body := d.get(b, "hello"); body == want {
				break
			}
			if time.Since(start) > 5*time.Second {
				b.Fatalf("save %d: not served 5s after the write", i)
			}
			// Every request is a run, and its record a write to the
			// database, which a deploy would wait for.
			time.Sleep(2 * time.Millisecond)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
}

// Outbound HTTP follows the manifest's allow-list and reaches a private
// address only with AllowPrivate.
func TestDevAllowPrivate(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up") }))
	defer upstream.Close()
	port := upstream.URL[strings.LastIndex(upstream.URL, ":")+1:]
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"picloud.toml": "app = \"out\"\n[outbound]\nallow = [\"localhost\"]\n",
		"call.rhai":    `let r = http::get("http://localhost:` + port + `/"); r.body`,
	})
	d := startDev(t, dir, local.DevOptions{Fresh: true})
	if status, body := d.get(t, "call"); status != 500 {
		t.Errorf("without AllowPrivate: %d %q, want 500", status, body)
	}
	d.log.waitFor(t, "private addresses")
	d.Close(context.Background())
	d = startDev(t, dir, local.DevOptions{AllowPrivate: true})
	if status, body := d.get(t, "call"); status != 200 || body != "up" {
		t.Errorf("with AllowPrivate: %d %q, want 200 up\n%s", status, body, d.log.String())
	}
}

// An env file outside the folder is read at start and again when it
// changes.
func TestDevEnvFileElsewhere(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	env := filepath.Join(other, "shop.env")
	writeFiles(t, dir, map[string]string{"picloud.toml": "app = \"env\"\n", "key.rhai": `secret("K").len()`})
	writeFiles(t, other, map[string]string{"shop.env": "K=abc\n"})
	d := startDev(t, dir, local.DevOptions{EnvFile: env, Fresh: true})
	if _, body := d.get(t, "key"); body != "3" {
		t.Fatalf("key = %q, want 3", body)
	}
	d.save(t, env, "K=abcdef\n")
	if _, body := d.get(t, "key"); body != "6" {
		t.Errorf("after the env file changed: key = %q, want 6", body)
	}
}
