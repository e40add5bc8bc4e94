package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/project"
	"github.com/picloud/picloud/internal/store"
)

// ReproOptions say what Repro runs: Record, a recorded invocation with
// its request and journal, against Source (the source of the version it
// ran) or, when File is set, that local script, with its folder's
// scripts for its imports.
type ReproOptions struct {
	Record store.Invocation
	Source string
	File   string
}

// Repro is a recorded invocation run again locally: the response it
// gives, as it would be recorded, and what its run did.
type Repro struct {
	Response *store.HTTPResponse
	Result   executor.Result
}

// Reproduce runs a recorded invocation on a temporary local node, in the
// sandbox (executor.Event.Replay): its reads, clock and random values are
// answered from the record's journal, its writes are captured and
// nothing the journal has no answer for is performed, so that the run is
// deterministic. The app's secrets are not at hand: secret(name) reads
// the marker "[secret NAME]" the journal holds in their place.
func Reproduce(ctx context.Context, opts ReproOptions) (Repro, error) {
	inv := opts.Record
	if inv.Request == nil {
		return Repro{}, fmt.Errorf("local: invocation %s has no recorded request to run (a schedule's run, or a record older than the recording)", inv.ID)
	}
	p := &project.Project{App: inv.AppSlug,
		Scripts: []project.Script{{Name: inv.Script, File: inv.Script + project.ScriptExt, Source: opts.Source}}}
	if opts.File != "" {
		var err error
		if p, err = LoadFolder(filepath.Dir(opts.File)); err != nil {
			return Repro{}, err
		}
		if inv.Script, err = ScriptOf(p, opts.File); err != nil {
			return Repro{}, err
		}
		inv.AppSlug = p.App
	}
	tmp, err := os.MkdirTemp("", "pic-repro-")
	if err != nil {
		return Repro{}, fmt.Errorf("local: %w", err)
	}
	defer os.RemoveAll(tmp)
	r, err := Start(ctx, Options{SQLite: filepath.Join(tmp, "local.db")})
	if err != nil {
		return Repro{}, err
	}
	defer r.Close(context.Background())
	if err := r.Apply(ctx, p, ApplyOptions{}); err != nil {
		return Repro{}, err
	}
	run, err := r.node.Orchestrator.SandboxReplay(ctx, inv, 0)
	if err != nil {
		return Repro{}, fmt.Errorf("local: %w", err)
	}
	return Repro{Response: run.Response, Result: run.Result}, nil
}
