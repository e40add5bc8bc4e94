package cli

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	localnode "github.com/picloud/picloud/internal/local"
	"github.com/picloud/picloud/internal/testdeps"
)

func TestParseDev(t *testing.T) {
	t.Parallel()
	def := localnode.DevOptions{Dir: ".", Listen: DefaultDevListen, Schedules: true}
	all := localnode.DevOptions{Dir: "shop", Listen: "127.0.0.1:9000", Fresh: true, EnvFile: "x.env", AllowPrivate: true}
	checkParse(t, []string{"dev"}, parseDev, []parseCase[localnode.DevOptions]{
		{args: nil, want: def},
		{args: []string{"shop", "--listen", "127.0.0.1:9000", "--no-schedules", "--fresh", "--env-file", "x.env", "--allow-private"}, want: all},
		{args: []string{"--listen", " "}, err: "--listen needs an address, e.g. " + DefaultDevListen},
		{args: []string{"a", "b"}, err: "too many arguments (b); expected 0 to 1 arguments"},
	})
}

// buildPic builds the pic binary into a folder of the test.
func buildPic(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pic")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/picloud/picloud/cmd/pic")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build pic: %v\n%s", err, out)
	}
	return bin
}

// eventually waits up to 10s for cond: the test waits on another
// process, which tells it nothing but through its answers.
func eventually(t *testing.T, what string, cond func() bool, log *testdeps.Buffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s\npic dev's stderr:\n%s", what, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func httpGet(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The journey with the real pic binary: init a folder by hand, pic dev,
// curl, edit, break, fix; pic run; pic test passing and failing.
func TestDevJourney(t *testing.T) {
	bin := buildPic(t)
	dir := writeProject(t, map[string]string{
		"picloud.toml": "app = \"journey\"\n",
		"hello.rhai":   `print("hello was called"); "v1"`,
		"hello_test.rhai": `fn test_hello() { assert_eq(test::call("hello").body, "v1"); }
`,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dev := exec.Command(bin, "dev", dir, "--listen", addr)
	var stderr testdeps.Buffer
	dev.Stdout, dev.Stderr = io.Discard, &stderr
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	defer dev.Process.Kill()
	url := "http://" + addr + "/fn/journey/hello"
	body := func(want string) func() bool {
		return func() bool { _, b := httpGet(url); return b == want }
	}
	eventually(t, "pic dev answers v1", body("v1"), &stderr)
	// The banner follows the start of serving: a first answer may come
	// before it is printed.
	eventually(t, "the banner", func() bool {
		return strings.Contains(stderr.String(), "Serving app journey at http://"+addr)
	}, &stderr)
	eventually(t, "the invocation line and print output", func() bool {
		s := stderr.String()
		return strings.Contains(s, "GET /fn/journey/hello 200") && strings.Contains(s, "  | hello was called")
	}, &stderr)
	if code, _ := httpGet("http://" + addr + "/api/v1/apps"); code != http.StatusNotFound {
		t.Errorf("the API is served on the listen address: %d", code)
	}

	hello := filepath.Join(dir, "hello.rhai")
	write := func(src string) {
		if err := os.WriteFile(hello, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`"v2"`)
	eventually(t, "the edit is served", body("v2"), &stderr)
	write("let x = ;\n")
	eventually(t, "the compile error is printed", func() bool {
		return strings.Contains(stderr.String(), "hello.rhai:1:9: ") && strings.Contains(stderr.String(), "            ^")
	}, &stderr)
	if _, b := httpGet(url); b != "v2" {
		t.Errorf("a broken save serves %q, want the last good v2", b)
	}
	write(`"v1"`)
	eventually(t, "the fix is served", body("v1"), &stderr)

	dev.Process.Signal(syscall.SIGINT)
	if err := dev.Wait(); err != nil {
		t.Errorf("pic dev on SIGINT: %v\n%s", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, ".picloud", "local.db")); err != nil {
		t.Errorf("no local state: %v", err)
	}

	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		cmd.Run()
		return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
	}
	if code, out, errOut := run("run", hello); code != 0 || out != "v1" || !strings.Contains(errOut, "operations") {
		t.Errorf("pic run: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := run("test", dir); code != 0 || !strings.Contains(out, "ok   hello_test.rhai test_hello") || !strings.HasSuffix(out, "1 passed, 0 failed\n") {
		t.Errorf("pic test: exit %d\n%s", code, out)
	}
	write(`"v9"`)
	if code, out, _ := run("test", dir); code != 1 || !strings.Contains(out, `actual "v9", expected "v1"`) || !strings.HasSuffix(out, "0 passed, 1 failed\n") {
		t.Errorf("pic test failing: exit %d\n%s", code, out)
	}
}
