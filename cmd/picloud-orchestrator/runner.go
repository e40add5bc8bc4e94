package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/picloud/picloud/internal/execrpc"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/orchestrator"
)

// remoteRunner runs the orchestrator's scripts in the node's executor
// process. Versions are compiled there, at their first run: a source that
// no longer compiles shows as an error result of that run.
type remoteRunner struct{ c *execrpc.Client }

func (r remoteRunner) Prepare(s orchestrator.Script) (orchestrator.Program, error) {
	return remoteProgram{r.c, execrpc.Script(s)}, nil
}

type remoteProgram struct {
	c *execrpc.Client
	s execrpc.Script
}

// Run runs the version on the executor. An executor that cannot be
// reached is an error result marked orchestrator.ErrUnavailable (503).
func (p remoteProgram) Run(ctx context.Context, ev executor.Event, lim executor.Limits) executor.Result {
	res, err := p.c.Run(ctx, p.s, ev, lim)
	if err == nil {
		return res
	}
	if errors.Is(err, execrpc.ErrUnavailable) {
		err = fmt.Errorf("%w: %w", orchestrator.ErrUnavailable, err)
	}
	// A caller that went away gets 503 as well, as from the executor.
	res = executor.ErrorResult(err)
	res.HTTPStatus = http.StatusServiceUnavailable
	return res
}
