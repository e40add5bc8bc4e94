package transfer

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
	"github.com/picloud/picloud/internal/store/sqlstore"
)

func TestConvert(t *testing.T) {
	t.Parallel()
	jobs := &table{name: "jobs"}
	turns := &table{name: "job_turns"}
	users := &table{name: "users"}
	col := func(name, typ string, nullable bool) column {
		return column{name: name, dataType: typ, nullable: nullable}
	}
	state := func(s string) func(string) any {
		return func(n string) any {
			if n != "state" {
				t.Fatalf("the rule asked for %s", n)
			}
			return s
		}
	}
	ns := time.Date(2025, 1, 2, 3, 4, 5, 678901234, time.UTC)
	finite := func(tm time.Time) pgtype.Timestamptz { return pgtype.Timestamptz{Time: tm, Valid: true} }
	for _, c := range []struct {
		name  string
		t     *table
		c     column
		v     any
		field func(string) any
		want  any
		err   string
	}{
		{"nanoseconds truncated to microseconds", users, col("created_at", typeTimestamptz, false), ns.UnixNano(), nil,
			finite(ns.Truncate(time.Microsecond)), ""},
		{"before the epoch", users, col("created_at", typeTimestamptz, false), int64(-1500), nil,
			finite(time.Unix(0, -2000).UTC()), ""},
		{"0 in a nullable column is NULL", users, col("last_used", typeTimestamptz, true), int64(0), nil, nullTime, ""},
		{"0 in a NOT NULL column is the zero time", users, col("created_at", typeTimestamptz, false), int64(0), nil, finite(time.Time{}), ""},
		{"NULL stays NULL", users, col("last_used", typeTimestamptz, true), nil, nil, nil, ""},
		{"NULL in a NOT NULL column", users, col("created_at", typeTimestamptz, false), nil, nil, nil, "NULL in a NOT NULL column"},
		{"a queued job due at once", jobs, col("run_at", typeTimestamptz, true), int64(0), state("queued"), minusInfty, ""},
		{"a running job's lease of 0", jobs, col("run_at", typeTimestamptz, true), int64(0), state("running"), minusInfty, ""},
		{"a job awaiting its retry at 0", jobs, col("run_at", typeTimestamptz, true), int64(0), state("error"), minusInfty, ""},
		{"an ended job", jobs, col("run_at", typeTimestamptz, true), int64(0), state("ok"), nullTime, ""},
		{"a dead job", jobs, col("run_at", typeTimestamptz, true), int64(0), state("dead"), nullTime, ""},
		{"a job's run_at that is set", jobs, col("run_at", typeTimestamptz, true), ns.UnixNano(), state("ok"), finite(ns.Truncate(time.Microsecond)), ""},
		{"a job's scheduled_at of 0", jobs, col("scheduled_at", typeTimestamptz, true), int64(0), nil, nullTime, ""},
		{"a turn claimed at 0", turns, col("claimed_at", typeTimestamptz, false), int64(0), nil, minusInfty, ""},
		{"a time as text", users, col("created_at", typeTimestamptz, false), "2025-01-01", nil, nil, "string 2025-01-01 where a time"},
		{"false", users, col("enabled", typeBoolean, false), int64(0), nil, false, ""},
		{"true", users, col("enabled", typeBoolean, false), int64(1), nil, true, ""},
		{"a boolean of 2", users, col("enabled", typeBoolean, false), int64(2), nil, nil, "int64 2 where a boolean"},
		{"bigint", users, col("id", typeBigint, false), int64(1 << 40), nil, int64(1 << 40), ""},
		{"integer", users, col("version", typeInteger, false), int64(7), nil, int64(7), ""},
		{"an integer too large", users, col("version", typeInteger, false), int64(1 << 40), nil, nil, "does not fit the target's integer"},
		{"a real where an integer belongs", users, col("id", typeBigint, false), 1.5, nil, nil, "float64 1.5 where an integer"},
		{"text", users, col("name", typeText, false), "héllo", nil, "héllo", ""},
		{"text kept as a blob", users, col("name", typeText, false), []byte("abc"), nil, "abc", ""},
		{"text with a NUL", users, col("name", typeText, false), "a\x00b", nil, nil, "NUL byte"},
		{"text that is not UTF-8", users, col("name", typeText, false), "a\xffb", nil, nil, "not valid UTF-8"},
		{"JSON", users, col("limits", typeJSONB, false), `{"a":1}`, nil, `{"a":1}`, ""},
		{"JSON that is not", users, col("limits", typeJSONB, false), `{"a":`, nil, nil, "not JSON"},
		{"bytes", users, col("request", typeBytea, true), []byte{0, 1}, nil, []byte{0, 1}, ""},
		{"bytes kept as text", users, col("request", typeBytea, true), "ab", nil, []byte("ab"), ""},
		{"an unknown type", users, col("where", "point", false), "(1,2)", nil, nil, "type point is unknown"},
	} {
		got, err := convert(c.t, c.c, c.v, c.field)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, %v; want an error saying %q", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", c.want) {
			t.Errorf("%s: %#v, %v; want %#v", c.name, got, err, c.want)
		}
	}
}

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{`{"b":1,"a":[true,null,"x"]}`, "{ \"a\" : [ true , null , \"x\" ] ,\n \"b\" : 1 }", true},
		{`{"n":1e2}`, `{"n":100}`, true},
		{`{"n":2.50}`, `{"n":2.5}`, true},
		{`{"a":1,"a":2}`, `{"a":2}`, true},
		{`"\u00e9"`, `"é"`, true},
		{`{"n":1}`, `{"n":2}`, false},
		{`{"n":"1"}`, `{"n":1}`, false},
		{`[1,2]`, `[2,1]`, false},
		{`{"a":{}}`, `{"a":[]}`, false},
	} {
		a, err := canonicalJSON(c.a)
		if err != nil {
			t.Fatalf("%s: %v", c.a, err)
		}
		b, err := canonicalJSON(c.b)
		if err != nil {
			t.Fatalf("%s: %v", c.b, err)
		}
		if (string(a) == string(b)) != c.same {
			t.Errorf("%s and %s: canonical %s and %s; want same=%v", c.a, c.b, a, b, c.same)
		}
	}
	for _, bad := range []string{`{"a":`, `1 2`, ``} {
		if _, err := canonicalJSON(bad); err == nil {
			t.Errorf("canonicalJSON(%q) took invalid JSON", bad)
		}
	}
}

// A Pi's log of 100 000 invocations, with their recorded exchanges,
// copies and verifies in seconds. Under the race detector, which slows
// the copy tenfold, a tenth of them are copied and the time is not
// bounded.
func TestMigrateALargeLog(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 000 invocation records; skipped with -short")
	}
	t.Parallel()
	records := 100_000
	if raceEnabled {
		records = 10_000
	}
	dsn := pgtest.DSN(t)
	path := filepath.Join(t.TempDir(), "picloud.db")
	st, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	app := store.App{Slug: "busy"}
	if err := st.CreateApp(ctx, &app); err != nil {
		t.Fatal(err)
	}
	started := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]store.Invocation, 0, 1000)
	for i := range records {
		batch = append(batch, store.Invocation{
			ID: fmt.Sprintf("01JX%010d", i), AppID: app.ID, Script: "hook", Version: 1 + i%3, Trigger: store.TriggerHTTP,
			StartedAt: started.Add(time.Duration(i) * 1001 * time.Nanosecond), Duration: time.Duration(i%5000) * time.Microsecond,
			Status: store.StatusOK, HTTPStatus: 200, Operations: int64(i), Summary: fmt.Sprintf("200 application/json, %d B", i%700),
			Request: &store.HTTPRequest{Method: "POST", Path: "/orders", Header: http.Header{"Content-Type": {"application/json"}},
				Body: []byte(fmt.Sprintf(`{"order":%d,"items":["a","b","c"]}`, i)), BodySize: 40},
			Response: &store.HTTPResponse{Status: 200, Body: []byte(`{"ok":true}`), BodySize: 11},
		})
		if len(batch) == cap(batch) {
			if err := st.InsertInvocations(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	rep := migrate(t, path, dsn)
	var copied int64
	for _, r := range rep.Tables {
		if r.Name == "invocations" {
			copied = r.Rows
		}
	}
	if copied != int64(records) {
		t.Fatalf("copied %d invocations, want %d", copied, records)
	}
	t.Logf("%d rows copied and verified in %v", rep.Rows(), rep.Duration.Round(time.Millisecond))
	// Seconds, not minutes: a bound far above the figure (2 s on a
	// two-core VM) that a copy row by row would miss.
	if !raceEnabled && rep.Duration > 30*time.Second {
		t.Errorf("the migration of %d invocations took %v", records, rep.Duration)
	}
}
