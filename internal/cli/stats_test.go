package cli

import (
	"context"
	"encoding/json"
	"github.com/picloud/picloud/internal/client"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/store/dbtest"
)

var statsHeader = "TIME\tREQUESTS\tOK\t4XX\t5XX\tTIMEOUTS\tLIMITS\tP50_MS\tP95_MS\tP99_MS\n"

func TestParseStats(t *testing.T) {
	t.Parallel()
	checkParse(t, []string{"stats"}, parseStats, []parseCase[statsOptions]{
		{args: []string{"demo"}, want: statsOptions{App: "demo", Since: 24 * time.Hour, Step: "hour"}},
		{args: []string{"demo", "--since", "90m", "--script", "hello"}, want: statsOptions{App: "demo", Script: "hello", Since: 90 * time.Minute, Step: "minute"}},
		{args: []string{"demo", "--since", "7d", "--step", "hour"}, want: statsOptions{App: "demo", Since: 7 * 24 * time.Hour, Step: "hour"}},
		{args: []string{"demo", "--since", "1h", "--step", "hour"}, want: statsOptions{App: "demo", Since: time.Hour, Step: "hour"}},
		{args: []string{"demo", "--since", "soon"}, err: `invalid --since "soon": use a duration such as 90m, 24h or 7d`},
		{args: []string{"demo", "--since", "-1h"}, err: `invalid --since "-1h": use a duration such as 90m, 24h or 7d`},
		{args: []string{"demo", "--step", "day"}, err: `invalid --step "day": use minute or hour`},
		{args: nil, err: "missing argument; expected 1 argument"},
	})
}

func TestSparkline(t *testing.T) {
	t.Parallel()
	points := []api.StatsPoint{{Requests: 0}, {Requests: 7}, {Requests: 14}, {Requests: 3}}
	if got := sparkline(points); got != "▁▄█▂" {
		t.Errorf("sparkline = %q, want ▁▄█▂", got)
	}
	if got := sparkline([]api.StatsPoint{{Requests: 0}}); got != "▁" {
		t.Errorf("sparkline of nothing = %q, want ▁", got)
	}
}

// TestStatsTTY: on a terminal the table comes after a sparkline.
func TestStatsTTY(t *testing.T) {
	t.Parallel()
	p, out, _ := unitPic("")
	p.io.OutTTY = true
	st := &api.Stats{Points: []api.StatsPoint{{Time: time.Date(2026, 12, 8, 5, 0, 0, 0, time.UTC), Requests: 2, OK: 2, DurationP50MS: 1.25}}}
	if err := runStats(p, fixedStats{st}, statsOptions{App: "demo", Since: time.Hour, Step: "minute"}); err != nil {
		t.Fatal(err)
	}
	want := "requests █\n" + statsHeader + "2026-12-08T05:00:00Z\t2\t2\t0\t0\t0\t0\t1.2\t0.0\t0.0\n"
	if out.String() != want {
		t.Errorf("stats on a terminal:\n%s\nwant:\n%s", out, want)
	}
}

// TestStats runs pic stats against a server of its own, whose records
// are flushed by closing the data plane.
func TestStats(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testStats)
}

func testStats(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := newServer(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	deploy(t, srv, app, "ok", `"fine"`)
	deploy(t, srv, app, "refuse", `response(422, #{error: "no"})`)

	if out := sh.ok("stats", app); out != statsHeader {
		t.Fatalf("no stats: %q", out)
	}
	sh.run("invoke", app+"/ok")
	sh.run("invoke", app+"/ok")
	sh.run("invoke", app+"/refuse")
	srv.flushLogs(t)

	// Not a terminal: no sparkline. The runs may straddle two minutes.
	for _, step := range []string{"minute", "hour"} {
		rows := rows(sh.ok("stats", app, "--step", step))
		var requests, ok, client int
		for _, r := range rows[1:] {
			requests, ok, client = requests+atoi(t, r[1]), ok+atoi(t, r[2]), client+atoi(t, r[3])
		}
		if len(rows) < 2 || strings.Join(rows[0], "\t")+"\n" != statsHeader || requests != 3 || ok != 2 || client != 1 {
			t.Errorf("stats per %s: %q, want 3 requests, 2 ok, one 4xx", step, rows)
		}
	}
	var st api.Stats
	if err := json.Unmarshal([]byte(sh.ok("stats", app, "--script", "refuse", "-o", "json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.App != app || st.Script != "refuse" || st.Step != "hour" || len(st.Points) != 1 || st.Points[0].ClientErrors != 1 || st.Points[0].DurationP50MS <= 0 {
		t.Errorf("stats json: %+v", st)
	}
	sh.fails(1, "error: HTTP 422: ", "stats", app, "--script", "../x")
}

// fixedStats answers every query with its stats.
type fixedStats struct{ st *api.Stats }

func (f fixedStats) Stats(context.Context, string, client.StatsFilter) (*api.Stats, error) {
	return f.st, nil
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
