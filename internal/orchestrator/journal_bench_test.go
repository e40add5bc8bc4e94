package orchestrator

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/sqlstore"
)

// BenchmarkJournal runs three scripts with their journal recorded (on)
// and not (off), and reports what a journal costs to keep: its bytes as
// stored (stored-B, what the recording quota counts) and as plain JSON
// (json-B), for docs/safe-deploys.md.
func BenchmarkJournal(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"ord_8f14e45f","status":"accepted","amount":1299,"currency":"EUR"}`)
	}))
	defer up.Close()
	st, err := sqlstore.OpenSQLite(filepath.Join(b.TempDir(), "j.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	app := store.App{Slug: "shop"}
	if err := st.CreateApp(context.Background(), &app); err != nil {
		b.Fatal(err)
	}
	x := executor.New(executor.Config{KV: st})
	scripts := []struct{ name, src string }{
		{"hello", `"Hello, world!"`},
		{"kv", `let cart = kv::get("cart:42", #{items: []}); kv::set("cart:42", #{items: [#{sku: "pi-zero", qty: 1}]}); kv::incr("carts"); cart`},
		{"outbound", `http::post(` + strconv.Quote(up.URL+"/v1/orders") + `, #{sku: "pi-zero", qty: 1}).json`},
	}
	for _, s := range scripts {
		ast, err := x.Compile(s.src)
		if err != nil {
			b.Fatal(err)
		}
		ev := executor.Event{App: app.Slug, AppID: app.ID, Outbound: executor.Outbound{Private: []string{"127.0.0.1"}}}
		for _, on := range []bool{true, false} {
			b.Run(s.name+"/"+map[bool]string{true: "on", false: "off"}[on], func(b *testing.B) {
				ev.Journal = on
				var res executor.Result
				for b.Loop() {
					res = x.Run(context.Background(), ast, ev, executor.Limits{})
				}
				if res.Status != executor.StatusOK {
					b.Fatalf("%s: %v", res.Status, res.Err)
				}
				j := recordJournal(res)
				data, _ := json.Marshal(j)
				if j == nil {
					data = nil
				}
				b.ReportMetric(float64(len(store.EncodeJournal(j))), "stored-B")
				b.ReportMetric(float64(len(data)), "json-B")
			})
		}
	}
}
