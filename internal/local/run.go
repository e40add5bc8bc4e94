package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// RunFile runs one invocation of the script in file on a temporary node
// holding the scripts of file's folder (LoadFolder), so that its imports
// resolve, and returns its response and invocation record. req.Script is
// set from file. The node and its database are removed afterwards.
func RunFile(ctx context.Context, file string, req Request) (Result, error) {
	p, err := LoadFolder(filepath.Dir(file))
	if err != nil {
		return Result{}, err
	}
	if req.Script, err = ScriptOf(p, file); err != nil {
		return Result{}, err
	}
	tmp, err := os.MkdirTemp("", "pic-run-")
	if err != nil {
		return Result{}, fmt.Errorf("local: %w", err)
	}
	defer os.RemoveAll(tmp)
	r, err := Start(ctx, Options{SQLite: filepath.Join(tmp, "local.db")})
	if err != nil {
		return Result{}, err
	}
	defer r.Close(context.Background())
	if err := r.Apply(ctx, p, ApplyOptions{}); err != nil {
		return Result{}, err
	}
	return r.Invoke(ctx, req)
}
