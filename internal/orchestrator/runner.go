package orchestrator

import (
	"context"
	"errors"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/rhai"
)

// Runner runs the scripts an orchestrator serves: in this process
// (LocalRunner, the all-in-one server), or in the node's executor process
// over RPC (cluster mode; cmd/picloud-orchestrator wires package execrpc).
type Runner interface {
	// Prepare readies a script version to run, once per version the
	// cache loads. Its error means that the source does not compile; the
	// version then answers 500 until the next deploy.
	Prepare(s Script) (Program, error)
}

// Script is one version of a script, as the cache loads it.
type Script struct {
	ID      int64 // the script's id: with Version, it names the source
	Version int
	Source  string
	// Modules are the live versions of the scripts of the same app that
	// it imports, directly or not, by module name; an import missing from
	// them fails the run with "Module not found".
	Modules map[string]executor.ModuleSource
}

// Program is a script version ready to run. Run never panics: a failure
// of any kind, including a runner that cannot be reached, is an error
// result.
type Program interface {
	Run(ctx context.Context, ev executor.Event, lim executor.Limits) executor.Result
}

// ErrUnavailable marks the error of a result whose script could not run
// because the runner is unavailable (the node's executor process is down
// or restarting). The data plane answers it with 503 and the code
// "executor_unavailable", which a client or proxy may retry.
var ErrUnavailable = errors.New("orchestrator: the executor is unavailable")

// LocalRunner runs scripts with the executor in this process.
func LocalRunner(x *executor.Executor) Runner { return localRunner{x} }

type localRunner struct{ x *executor.Executor }

func (l localRunner) Prepare(s Script) (Program, error) {
	ast, err := l.x.Compile(s.Source)
	if err != nil {
		return nil, err
	}
	return localProgram{l.x, ast, l.x.CompileModules(s.Modules)}, nil
}

type localProgram struct {
	x    *executor.Executor
	ast  *rhai.AST
	mods *executor.Modules
}

func (p localProgram) Run(ctx context.Context, ev executor.Event, lim executor.Limits) executor.Result {
	return p.x.RunWithModules(ctx, p.ast, p.mods, ev, lim)
}
