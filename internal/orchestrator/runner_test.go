package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/picloud/picloud/internal/executor"
)

// recordingRunner runs scripts locally and records what it prepares; when
// down, its programs answer as a remote runner whose executor is gone.
type recordingRunner struct {
	local Runner

	mu       sync.Mutex
	prepared []Script
	down     bool
}

func (r *recordingRunner) Prepare(s Script) (Program, error) {
	r.mu.Lock()
	r.prepared = append(r.prepared, s)
	r.mu.Unlock()
	p, err := r.local.Prepare(s)
	if err != nil {
		return nil, err
	}
	return recordingProgram{r, p}, nil
}

func (r *recordingRunner) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

func (r *recordingRunner) versions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var vs []string
	for _, s := range r.prepared {
		vs = append(vs, fmt.Sprintf("%d@%d:%s", s.ID, s.Version, s.Source))
	}
	return vs
}

type recordingProgram struct {
	r *recordingRunner
	p Program
}

func (p recordingProgram) Run(ctx context.Context, ev executor.Event, lim executor.Limits) executor.Result {
	p.r.mu.Lock()
	down := p.r.down
	p.r.mu.Unlock()
	if down {
		res := executor.ErrorResult(fmt.Errorf("%w: connection refused", ErrUnavailable))
		res.HTTPStatus = http.StatusServiceUnavailable
		return res
	}
	return p.p.Run(ctx, ev, lim)
}

func newRecordingRunner() *recordingRunner {
	return &recordingRunner{local: LocalRunner(executor.New(executor.Config{}))}
}

// The orchestrator prepares each live version once, through its runner,
// and again after a deploy or a Resync.
func TestRunnerPreparesEachVersionOnce(t *testing.T) {
	r := newRecordingRunner()
	e := newEnv(t, Config{Runner: r})
	v1 := e.deploy("demo", "hello", `"one"`)
	for range 3 {
		if rec := e.do("GET", "/fn/demo/hello", nil, nil); rec.Code != 200 || rec.Body.String() != "one" {
			t.Fatalf("v1: %d %q", rec.Code, rec.Body)
		}
	}
	e.deploy("demo", "hello", `"two"`)
	if rec := e.do("GET", "/fn/demo/hello", nil, nil); rec.Code != 200 || rec.Body.String() != "two" {
		t.Fatalf("v2: %d %q", rec.Code, rec.Body)
	}
	e.orch.Resync()
	if rec := e.do("GET", "/fn/demo/hello", nil, nil); rec.Code != 200 || rec.Body.String() != "two" {
		t.Fatalf("after Resync: %d %q", rec.Code, rec.Body)
	}
	id := v1.ScriptID
	want := fmt.Sprint([]string{
		fmt.Sprintf(`%d@1:"one"`, id), fmt.Sprintf(`%d@2:"two"`, id), fmt.Sprintf(`%d@2:"two"`, id),
	})
	if got := fmt.Sprint(r.versions()); got != want {
		t.Fatalf("prepared %s, want %s", got, want)
	}
}

// A runner that cannot reach its executor makes the data plane answer 503
// with a JSON error that says so and invites a retry, and the run is
// logged as an error.
func TestRunnerUnavailable(t *testing.T) {
	r := newRecordingRunner()
	e := newEnv(t, Config{Runner: r})
	e.deploy("demo", "hello", `"hi"`)
	r.setDown(true)
	rec := e.do("GET", "/fn/demo/hello", nil, nil)
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%d %q: %v", rec.Code, rec.Body, err)
	}
	id := rec.Header().Get(InvocationHeader)
	if rec.Code != http.StatusServiceUnavailable || body.Error.Code != "executor_unavailable" ||
		body.Error.InvocationID != id || id == "" || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("%d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	r.setDown(false)
	if rec := e.do("GET", "/fn/demo/hello", nil, nil); rec.Code != 200 || rec.Body.String() != "hi" {
		t.Fatalf("back up: %d %q", rec.Code, rec.Body)
	}
	logs := e.logs()
	if len(logs) != 2 || logs[1].ID != id || logs[1].Status != "error" || logs[1].HTTPStatus != 503 {
		t.Fatalf("logs %+v", logs)
	}
}
