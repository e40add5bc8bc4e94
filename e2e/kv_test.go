package e2e

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// counterScript counts its hits in the app's key-value store.
const counterScript = `let n = kv::incr("hits"); #{hits: n}`

// noteScript stores the request body, and answers 413 with the message of
// the error when the store refuses it.
const noteScript = `
let answer = "saved";
try {
    kv::set("note", request.body);
} catch (err) {
    answer = response(413, err.message);
}
answer`

// A script counts its hits with kv::incr, concurrent requests included,
// and pic shows the count; a value over the limit is refused, to a script
// and to pic, with the documented error.
func TestKV(t *testing.T) {
	_, token := createUser(t, "kv-editor")
	pic := as(t, token)
	app := unique("kv")
	pic.ok("apps", "create", app)
	pic.ok("scripts", "deploy", writeFile(t, "counter.rhai", counterScript), "--app", app)
	pic.ok("scripts", "deploy", writeFile(t, "note.rhai", noteScript), "--app", app)

	// Ten requests at once: each gets its own count.
	const hits = 10
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts []int
	)
	for range hits {
		wg.Go(func() {
			resp, err := http.Get(serverURL + "/fn/" + app + "/counter")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var n int
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), `{"hits":`) {
				t.Errorf("counter: HTTP %d %s", resp.StatusCode, body)
				return
			}
			n, err = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(string(body), `{"hits":`), "}"))
			if err != nil {
				t.Errorf("counter: %s", body)
				return
			}
			mu.Lock()
			counts = append(counts, n)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(counts)
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(counts, want) {
		t.Fatalf("the requests counted %v, want each of 1 to %d once", counts, hits)
	}
	if r := pic.ok("kv", "get", app, "hits"); r.stdout != "10\n" {
		t.Errorf("pic kv get: want 10\n%s", r)
	}
	r := pic.ok("kv", "ls", app)
	if got := column(t, r, "KEY"); !slices.Equal(got, []string{"hits"}) {
		t.Errorf("pic kv ls: keys %v, want hits\n%s", got, r)
	}

	// pic writes what the script reads.
	pic.ok("kv", "set", app, "hits", "100")
	resp, err := http.Get(serverURL + "/fn/" + app + "/counter")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"hits":101}` {
		t.Errorf("after pic kv set hits 100: %s", body)
	}

	// A value over the limit (64 KiB of JSON by default): the script
	// catches the error; pic gets 413; nothing is stored.
	big := strings.Repeat("x", 70000)
	resp, err = http.Post(serverURL+"/fn/"+app+"/note", "text/plain", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	const msg = "kv::set: value of 70002 bytes is over the limit of 65536"
	if resp.StatusCode != http.StatusRequestEntityTooLarge || string(body) != msg {
		t.Errorf("a note over the limit: HTTP %d %q, want 413 %q", resp.StatusCode, body, msg)
	}
	r = pic.run("kv", "set", app, "note", "@"+writeFile(t, "big.json", `"`+big+`"`))
	refused(t, r, 413)
	if !strings.Contains(r.stderr, "error: HTTP 413: value of 70002 bytes is over the limit of 65536") {
		t.Errorf("pic kv set of a big value: want the sizes in the error\n%s", r)
	}
	refused(t, pic.run("kv", "get", app, "note"), 404)

	// A viewer reads the store but may not change it.
	viewer, viewerToken := createUser(t, "kv-viewer")
	pic.ok("members", "add", app, viewer, "--role", "viewer")
	asViewer := as(t, viewerToken)
	if r := asViewer.ok("kv", "get", app, "hits"); r.stdout != "101\n" {
		t.Errorf("viewer: pic kv get: want 101\n%s", r)
	}
	refused(t, asViewer.run("kv", "rm", app, "hits"), 403)
	pic.ok("kv", "rm", app, "hits")
	refused(t, pic.run("kv", "get", app, "hits"), 404)
}
