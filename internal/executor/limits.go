package executor

import (
	"math"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// Limits bound one invocation. A zero field means "the default", never
// "unlimited": a script always runs under a deadline, an operation budget
// and size bounds.
type Limits struct {
	// Timeout is the wall-clock time a run may take.
	Timeout time.Duration
	// MaxOperations is the engine's operation budget (statements,
	// expressions, calls).
	MaxOperations uint64
	// MaxBodyBytes bounds the request body the data plane accepts; the
	// executor itself does not read bodies, the orchestrator enforces it.
	MaxBodyBytes int64
	// MaxMemoryBytes bounds the data a run holds at once, across all its
	// variables, call frames, closures and modules (the engine's
	// MaxMemory). Each value is bounded too: its string and blob bytes by
	// MaxMemoryBytes, its array elements and map properties by a 64th of
	// it, counted over nested values.
	MaxMemoryBytes int64
	// KV bounds the app's key-value store (the kv module).
	KV store.KVLimits
	// MaxScriptBytes bounds a script's source, when it is deployed and
	// compiled (and in eval). It is the server's: compiling comes before
	// any app's limits apply, so apps do not override it.
	MaxScriptBytes int64
}

// Default limits.
const (
	DefaultTimeout        = 5 * time.Second
	DefaultMaxOperations  = 50_000_000
	DefaultMaxBodyBytes   = 1 << 20
	DefaultMaxMemoryBytes = 16 << 20
	DefaultMaxScriptBytes = 1 << 20
)

// DefaultLimits are the limits used where neither the server
// configuration nor the app sets one.
func DefaultLimits() Limits {
	return Limits{
		Timeout:        DefaultTimeout,
		MaxOperations:  DefaultMaxOperations,
		MaxBodyBytes:   DefaultMaxBodyBytes,
		MaxMemoryBytes: DefaultMaxMemoryBytes,
		KV:             store.DefaultKVLimits(),
		MaxScriptBytes: DefaultMaxScriptBytes,
	}
}

// Merge returns l with the app's non-zero overrides applied.
func (l Limits) Merge(o store.AppLimits) Limits {
	if o.TimeoutMS > 0 {
		l.Timeout = time.Duration(o.TimeoutMS) * time.Millisecond
	}
	if o.MaxOperations > 0 {
		l.MaxOperations = uint64(o.MaxOperations)
	}
	if o.MaxBodyBytes > 0 {
		l.MaxBodyBytes = o.MaxBodyBytes
	}
	if o.MaxMemoryMB > 0 {
		l.MaxMemoryBytes = o.MaxMemoryMB << 20
	}
	l.KV = l.KV.Merge(o)
	return l
}

// Or returns l with its zero fields taken from d.
func (l Limits) Or(d Limits) Limits {
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.MaxOperations == 0 {
		l.MaxOperations = d.MaxOperations
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	if l.MaxMemoryBytes <= 0 {
		l.MaxMemoryBytes = d.MaxMemoryBytes
	}
	l.KV = l.KV.Or(d.KV)
	if l.MaxScriptBytes <= 0 {
		l.MaxScriptBytes = d.MaxScriptBytes
	}
	return l
}

// engineLimits maps l onto the engine's limits, starting from its sandbox
// profile (call depth, expression depth, variables, functions, modules).
func (l Limits) engineLimits() rhai.Limits {
	rl := rhai.SandboxLimits()
	rl.MaxOperations = l.MaxOperations
	mem := clampInt(l.MaxMemoryBytes)
	rl.MaxStringLen = mem
	rl.MaxBlobLen = mem
	rl.MaxArrayLen = max(mem/64, 1)
	rl.MaxMapSize = max(mem/64, 1)
	rl.MaxSourceBytes = clampInt(l.MaxScriptBytes)
	rl.MaxMemory = mem
	return rl
}

func clampInt(n int64) int {
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(max(n, 1))
}
