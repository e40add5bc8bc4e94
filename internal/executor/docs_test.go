package executor

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/sqlstore"
)

// TestScriptsDocExamples keeps the examples of docs/scripts.md working:
// each compiles and finishes (status ok) on a sample request.
func TestScriptsDocExamples(t *testing.T) {
	data, err := os.ReadFile("../../docs/scripts.md")
	if err != nil {
		t.Skip("docs/scripts.md not found:", err)
	}
	// The kv examples need a store, with the app of the sample request.
	st, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "docs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	demo := store.App{Slug: "demo"}
	if err := st.CreateApp(t.Context(), &demo); err != nil {
		t.Fatal(err)
	}
	x := New(Config{KV: st})
	blocks := strings.Split(string(data), "```rhai\n")[1:]
	if len(blocks) < 5 {
		t.Fatalf("%d examples", len(blocks))
	}
	ev := Event{
		App: "demo", AppID: demo.ID, Script: "api", Method: "POST", Path: "/users/42",
		Query:  url.Values{"name": {"pi"}, "n": {"12"}},
		Header: http.Header{"Content-Type": {"application/json"}, "X-Token": {"s3cret"}},
		Body:   []byte(`{"n": 21}`),
		Env:    map[string]string{"API_TOKEN": "s3cret"},
	}
	for _, b := range blocks {
		src := b[:strings.Index(b, "```")]
		ast, err := x.Compile(src)
		if err != nil {
			t.Errorf("example does not compile: %v\n%s", err, src)
			continue
		}
		if res := x.Run(context.Background(), ast, ev, Limits{}); res.Status != StatusOK || res.HTTPStatus >= 400 {
			t.Errorf("example answered %d (%s): %s\n%s", res.HTTPStatus, res.Status, res.Summary, src)
		}
	}
}
