package manager

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// checkDeploy deploys one script of demo with a check of n, as the
// editor, and returns the result (want 200) or the response.
func (e *liveEnv) checkDeploy(name, source string, n int, dryRun, requireSame bool, want int) (api.DeployResult, response) {
	e.t.Helper()
	return e.deployAs(asEditor, "demo", api.ProjectDeploy{Scripts: []api.ProjectScript{{Name: name, Source: source}},
		Check: n, DryRun: dryRun, RequireSame: requireSame}, want)
}

// outcomes are a report's outcomes, in its order.
func outcomes(rep *api.CheckReport) []string {
	out := []string{}
	for _, c := range rep.Invocations {
		out = append(out, c.Outcome)
	}
	return out
}

func wantOutcomes(t *testing.T, what string, rep *api.CheckReport, want ...string) {
	t.Helper()
	if rep == nil {
		t.Fatalf("%s: no check report", what)
	}
	if got := outcomes(rep); !slices.Equal(got, want) {
		b, _ := json.MarshalIndent(rep, "", "  ")
		t.Fatalf("%s: outcomes %v, want %v; report:\n%s", what, got, want, b)
	}
}

// TestCheckCatchesChanges replays recorded traffic against candidates: a
// pure refactor is the same; a changed response, a changed kv write and
// a new outbound call are each caught, and nothing of the candidates
// reaches the app or its data.
func TestCheckCatchesChanges(t *testing.T) { dbtest.Run(t, testCheckCatchesChanges) }

func testCheckCatchesChanges(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	e := newLiveEnv(t, b)
	e.deploy("demo", "greet", `kv::set("last", request.body); response(200, #{hello: request.body, n: 1})`)
	ids := []string{
		e.invoke("POST", "/fn/demo/greet", "ada", nil),
		e.invoke("POST", "/fn/demo/greet", "bob", nil),
	}
	before := e.state("demo")

	refactor := `let who = request.body; kv::set("last", who); let out = #{n: 1}; out.hello = who; response(200, out)`
	res, _ := e.checkDeploy("greet", refactor, 10, true, false, 200)
	wantOutcomes(t, "a pure refactor", res.Check, "same", "same")
	if s := res.Check.Summary; s.Checked != 2 || s.Same != 2 || s.Scripts != 1 || !s.AllSame() || res.Check.Limit != 10 {
		t.Errorf("summary of a pure refactor: %+v", s)
	}
	if got := []string{res.Check.Invocations[0].ID, res.Check.Invocations[1].ID}; !slices.Contains(got, ids[0]) || !slices.Contains(got, ids[1]) {
		t.Errorf("checked invocations %v, want %v", got, ids)
	}

	res, _ = e.checkDeploy("greet", `kv::set("last", request.body); response(201, #{hello: "dear " + request.body, n: 1})`, 10, true, false, 200)
	wantOutcomes(t, "a changed response", res.Check, "different", "different")
	c := res.Check.Invocations[0]
	if d := c.Diff; d == nil || !slices.Equal(d.Status, []int{200, 201}) || !strings.Contains(d.Body, `-  "hello": "bob"`) ||
		!strings.Contains(d.Body, `+  "hello": "dear bob"`) || strings.Contains(d.Body, `"n"`) || d.WritesNew != nil {
		t.Errorf("diff of a changed response: %+v", c.Diff)
	}
	if c.Summary != "status 200 → 201, body" {
		t.Errorf("summary of a changed response: %q", c.Summary)
	}

	res, _ = e.checkDeploy("greet", `kv::set("last", "<" + request.body + ">"); response(200, #{hello: request.body, n: 1})`, 10, true, false, 200)
	wantOutcomes(t, "a changed kv write", res.Check, "different", "different")
	if d := res.Check.Invocations[0].Diff; d == nil || !slices.Equal(d.WritesGone, []string{`kv::set last "bob"`}) ||
		!slices.Equal(d.WritesNew, []string{`kv::set last "<bob>"`}) || d.Body != "" || d.Status != nil {
		t.Errorf("diff of a changed kv write: %+v", d)
	}

	// The candidate runs with the project's allow-list.
	res, _ = e.deployAs(asEditor, "demo", api.ProjectDeploy{Check: 10, DryRun: true, OutboundAllow: []string{"audit.example.com"},
		Scripts: []api.ProjectScript{{Name: "greet", Source: `kv::set("last", request.body); let r = http::get("https://audit.example.com/seen?who=" + request.body); response(200, #{hello: request.body, n: 1})`}}}, 200)
	wantOutcomes(t, "a new outbound call", res.Check, "new_effect", "new_effect")
	if c := res.Check.Invocations[0]; !slices.Equal(c.NewEffects, []string{"http GET https://audit.example.com/seen?who=bob"}) ||
		!strings.HasPrefix(c.Summary, "new effect: http GET https://audit.example.com/seen?who=bob") {
		t.Errorf("a new outbound call: %+v", c)
	}

	res, _ = e.checkDeploy("greet", `kv::set("last", request.body); throw "boom"`, 10, true, false, 200)
	wantOutcomes(t, "a new error", res.Check, "new_error", "new_error")
	if c := res.Check.Invocations[0]; !strings.Contains(c.Error, "boom") || c.Diff == nil || !slices.Equal(c.Diff.Status, []int{200, 500}) {
		t.Errorf("a new error: %+v", c)
	}

	// Dry runs: nothing changed, and the kv store never saw a candidate.
	if after := e.state("demo"); after != before {
		t.Errorf("checks changed the app:\n%s\nwant:\n%s", after, before)
	}
	if v := e.kvValue("last"); v != `"bob"` {
		t.Errorf("kv last = %s after the checks, want the production write \"bob\"", v)
	}
}

// TestCheckDeterministic replays a script that reads the clock and draws
// random values: its refactor is the same on every replay. (The bytes
// are answered in hex: a raw NUL in a body stops the log batch on
// PostgreSQL.)
func TestCheckDeterministic(t *testing.T) { dbtest.Run(t, testCheckDeterministic) }

func testCheckDeterministic(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	e := newLiveEnv(t, b)
	e.deploy("demo", "stamp", `let t = time::unix(); let id = crypto::uuid(); let r = encoding::hex_encode(crypto::random_bytes(8)); response(200, "" + t + " " + id + " " + r)`)
	e.invoke("GET", "/fn/demo/stamp", "", nil)
	e.invoke("GET", "/fn/demo/stamp", "", nil)
	refactor := "let now = time::unix(); let u = crypto::uuid(); let bytes = encoding::hex_encode(crypto::random_bytes(8)); response(200, `${now} ${u} ${bytes}`)"
	for range 3 {
		res, _ := e.checkDeploy("stamp", refactor, 10, true, false, 200)
		wantOutcomes(t, "a refactor reading the clock and random values", res.Check, "same", "same")
	}
	// Another answer from the same draws is caught.
	res, _ := e.checkDeploy("stamp", `let t = time::unix(); let id = crypto::uuid(); let r = encoding::hex_encode(crypto::random_bytes(8)); response(200, "" + (t + 1) + " " + id + " " + r)`, 10, true, false, 200)
	wantOutcomes(t, "another answer from the same draws", res.Check, "different", "different")
}

// TestCheckRequireSame refuses a deploy whose check finds a difference,
// with the report, and applies one that finds none, keeping its report
// with the release.
func TestCheckRequireSame(t *testing.T) { dbtest.Run(t, testCheckRequireSame) }

func testCheckRequireSame(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	e := newLiveEnv(t, b)
	e.deploy("demo", "greet", `response(200, "hello " + request.body)`)
	e.invoke("POST", "/fn/demo/greet", "ada", nil)
	before := e.state("demo")

	_, res := e.checkDeploy("greet", `response(200, "hi " + request.body)`, 5, false, true, 409)
	var refusal struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details struct {
				Check api.CheckReport `json:"check"`
			} `json:"details"`
		} `json:"error"`
	}
	res.decode(t, &refusal)
	if refusal.Error.Code != "check_failed" || !strings.Contains(refusal.Error.Message, "1 of 1 invocation(s) not the same") ||
		!slices.Equal(outcomes(&refusal.Error.Details.Check), []string{"different"}) {
		t.Errorf("refusal: %s", res.body)
	}
	if after := e.state("demo"); after != before {
		t.Errorf("a refused deploy changed the app:\n%s\nwant:\n%s", after, before)
	}

	out, _ := e.checkDeploy("greet", `let who = request.body; response(200, "hello " + who)`, 5, false, true, 200)
	if out.Release == nil || out.Release.Check == nil || out.Release.Check.Summary.Same != 1 {
		t.Fatalf("deploy with a passing check: %+v", out)
	}
	rel := e.do("GET", "/api/v1/apps/demo/releases/"+itoa(int(out.Release.ID)), "", asViewer, "")
	var shown api.Release
	rel.decode(t, &shown)
	if shown.Check == nil || !slices.Equal(outcomes(shown.Check), []string{"same"}) {
		t.Errorf("the release does not show its check: %s", rel.body)
	}
	// A check without RequireSame applies whatever it finds.
	out, _ = e.checkDeploy("greet", `response(200, "hey " + request.body)`, 5, false, false, 200)
	if out.Release == nil || out.Check == nil || out.Check.Summary.Different != 1 || out.Release.Check.Summary.Different != 1 {
		t.Errorf("deploy with a failing check, not required: %+v", out)
	}
}

// TestCheckBounds replays at most n invocations per changed script, the
// newest, and only scripts whose source changes.
func TestCheckBounds(t *testing.T) { dbtest.Run(t, testCheckBounds) }

func testCheckBounds(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	e := newLiveEnv(t, b)
	e.deploy("demo", "echo", `response(200, request.body)`)
	e.deploy("demo", "same", `response(200, "same")`)
	var ids []string
	for _, body := range []string{"1", "2", "3", "4", "5"} {
		ids = append(ids, e.invoke("POST", "/fn/demo/echo", body, nil))
	}
	e.invoke("GET", "/fn/demo/same", "", nil)
	res, _ := e.deployAs(asEditor, "demo", api.ProjectDeploy{DryRun: true, Check: 2, Scripts: []api.ProjectScript{
		{Name: "echo", Source: `response(200, "" + request.body)`}, {Name: "same", Source: `response(200, "same")`}}}, 200)
	wantOutcomes(t, "a check of 2", res.Check, "same", "same")
	if got := []string{res.Check.Invocations[0].ID, res.Check.Invocations[1].ID}; !slices.Equal(got, []string{ids[4], ids[3]}) {
		t.Errorf("checked %v, want the newest two %v", got, ids[3:])
	}
	if s := res.Check.Summary; s.Scripts != 1 || s.Checked != 2 {
		t.Errorf("summary: %+v", s)
	}
	// A request whose body was cut when it was recorded is skipped.
	e.invoke("POST", "/fn/demo/echo", strings.Repeat("x", 70<<10), nil)
	res, _ = e.deployAs(asEditor, "demo", api.ProjectDeploy{DryRun: true, Check: 1, Scripts: []api.ProjectScript{
		{Name: "echo", Source: `response(200, "" + request.body)`}}}, 200)
	if s := res.Check.Summary; s.Checked != 0 || s.Skipped != 1 || len(res.Check.Invocations) != 0 {
		t.Errorf("a cut request's check: %+v", s)
	}
	// A request the live version does not answer as production did is
	// skipped: its credential header was not recorded.
	e.deploy("demo", "guarded", `if request.headers.authorization == () { response(401, "who?") } else { response(200, "ok") }`)
	e.invoke("GET", "/fn/demo/guarded", "", map[string]string{"Authorization": "Bearer t"})
	res, _ = e.deployAs(asEditor, "demo", api.ProjectDeploy{DryRun: true, Check: 5, Scripts: []api.ProjectScript{
		{Name: "guarded", Source: `response(200, "changed")`}}}, 200)
	if s := res.Check.Summary; s.Checked != 0 || s.Skipped != 1 {
		t.Errorf("a request relying on a credential header: %+v", s)
	}
	// A check out of time skips what is left.
	e.m.checkTime = 0
	res, _ = e.deployAs(asEditor, "demo", api.ProjectDeploy{DryRun: true, Check: 3, Scripts: []api.ProjectScript{
		{Name: "echo", Source: `response(200, "" + request.body)`}}}, 200)
	if s := res.Check.Summary; s.Checked != 0 || s.Skipped != 3 {
		t.Errorf("a check out of time: %+v", s)
	}
	e.m.checkTime = maxCheckTime
	// No check: no report.
	if res, _ := e.deployAs(asEditor, "demo", api.ProjectDeploy{DryRun: true, Scripts: []api.ProjectScript{{Name: "echo", Source: `response(200, "x")`}}}, 200); res.Check != nil {
		t.Errorf("a deploy without check answered a report: %+v", res.Check)
	}
	for _, bad := range []api.ProjectDeploy{{Check: -1}, {Check: api.MaxCheck + 1}, {RequireSame: true}} {
		bad.Scripts = []api.ProjectScript{{Name: "echo", Source: `response(200, "x")`}}
		e.deployAs(asEditor, "demo", bad, 422)
	}
}

// TestCheckAnswersReads replays a script that reads the kv store: reads
// answer what production read, whatever the store holds now, and a key
// production never read is a new effect.
func TestCheckAnswersReads(t *testing.T) { dbtest.Run(t, testCheckAnswersReads) }

func testCheckAnswersReads(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	e := newLiveEnv(t, b)
	e.deploy("demo", "count", `let n = kv::get("n", 0); kv::set("n", n + 1); response(200, "" + n)`)
	e.invoke("POST", "/fn/demo/count", "", nil) // reads nothing: answers 0
	e.invoke("POST", "/fn/demo/count", "", nil) // reads 1
	e.invoke("POST", "/fn/demo/count", "", nil) // reads 2; the store now holds 3

	res, _ := e.checkDeploy("count", `let before = kv::get("n", 0); kv::set("n", before + 1); response(200, `+"`${before}`"+`)`, 10, true, false, 200)
	wantOutcomes(t, "a refactor reading the kv store", res.Check, "same", "same", "same")

	res, _ = e.checkDeploy("count", `let n = kv::get("n", 0); kv::set("n", n + 2); response(200, "" + n)`, 10, true, false, 200)
	wantOutcomes(t, "a changed increment", res.Check, "different", "different", "different")
	if d := res.Check.Invocations[0].Diff; d == nil || !slices.Equal(d.WritesGone, []string{"kv::set n 3"}) || !slices.Equal(d.WritesNew, []string{"kv::set n 4"}) {
		t.Errorf("the newest invocation's diff: %+v", d)
	}

	res, _ = e.checkDeploy("count", `let n = kv::get("n", 0); let m = kv::get("other", 0); kv::set("n", n + 1); response(200, "" + n)`, 10, true, false, 200)
	wantOutcomes(t, "a read of a key never read", res.Check, "new_effect", "new_effect", "new_effect")
	if c := res.Check.Invocations[0]; !slices.Equal(c.NewEffects, []string{"kv::get other"}) {
		t.Errorf("new effects: %+v", c)
	}
	if v := e.kvValue("n"); v != "3" {
		t.Errorf("kv n = %s after the checks, want production's 3", v)
	}
}

// TestCheckFollowsImports replays the traffic of a script whose own
// source stays when a module it imports changes.
func TestCheckFollowsImports(t *testing.T) { dbtest.Run(t, testCheckFollowsImports) }

func testCheckFollowsImports(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	e := newLiveEnv(t, b)
	e.deploy("demo", "words", `fn greet(who) { "hello " + who }`)
	e.deploy("demo", "hi", `import "words" as w; response(200, w::greet(request.body))`)
	e.deploy("demo", "other", `response(200, "other")`)
	id := e.invoke("POST", "/fn/demo/hi", "ada", nil)
	e.invoke("GET", "/fn/demo/other", "", nil)

	res, _ := e.checkDeploy("words", `fn greet(who) { "hey " + who }`, 10, true, false, 200)
	wantOutcomes(t, "a changed module", res.Check, "different")
	if c := res.Check.Invocations[0]; c.ID != id || c.Script != "hi" || c.Diff == nil || c.Diff.Body != "-hello ada\n+hey ada" {
		t.Errorf("the importer's check: %+v %+v", c, c.Diff)
	}
	if s := res.Check.Summary; s.Scripts != 2 || s.Checked != 1 {
		t.Errorf("summary: %+v, want words and hi checked, other not", s)
	}
}

// TestCheckRedactsSecrets replays scripts with the app's secrets, which
// never appear in the report: not in a body's diff, a header or a write.
func TestCheckRedactsSecrets(t *testing.T) { dbtest.Run(t, testCheckRedactsSecrets) }

func testCheckRedactsSecrets(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	e := newLiveEnv(t, b)
	sec := seededSecrets["demo"]
	e.deploy("demo", "tok", `response(200, "t=" + secret("`+sec.name+`"))`)
	e.invoke("GET", "/fn/demo/tok", "", nil)

	res, body := e.checkDeploy("tok", `let s = secret("`+sec.name+`"); kv::set("copy", s); response(201, "token " + s, #{"X-Token": s})`, 10, true, false, 200)
	wantOutcomes(t, "a changed use of a secret", res.Check, "different")
	if strings.Contains(body.body, sec.value) {
		t.Fatalf("the report holds the secret: %s", body.body)
	}
	d := res.Check.Invocations[0].Diff
	if d == nil || !strings.Contains(d.Body, "+token [secret "+sec.name+"]") || len(d.Headers) == 0 || len(d.WritesNew) != 1 {
		t.Errorf("diff: %+v", d)
	}
}
