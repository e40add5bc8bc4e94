//go:build !unix

package main

import (
	"fmt"
	"log/slog"
	"os"
)

// makeSocketDir makes the executor's socket directory. Without flock,
// the directories of orchestrators that died are not cleaned here.
func makeSocketDir(*slog.Logger) (dir string, release func(), err error) {
	dir, err = os.MkdirTemp("", "picloud-orchestrator-")
	if err != nil {
		return "", nil, fmt.Errorf("executor socket directory: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}
