package cli

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/picloud/picloud/internal/client"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the server refused or failed, or a local operation failed
	exitUsage = 2 // the command line is wrong
)

// usageError is a mistake on the command line: exit code 2, with the
// command's usage line.
type usageError struct {
	cmd *command
	msg string
}

func (e *usageError) Error() string { return e.msg }

// usagef returns a usage error of command c.
func usagef(c *command, format string, a ...any) error {
	return &usageError{cmd: c, msg: fmt.Sprintf(format, a...)}
}

// localError is a mistake in the local files a command reads — a
// project's manifest, a script that does not compile, a folder it must
// not overwrite: exit code 2, as for a usage error, and nothing was sent
// to a server. It prints as the error it wraps, without a usage line.
type localError struct{ err error }

func (e *localError) Error() string { return e.err.Error() }

func (e *localError) Unwrap() error { return e.err }

// exitCode maps the error a command returned to pic's exit code. This is
// the only place that decides it.
func exitCode(err error) int {
	var ue *usageError
	var le *localError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue), errors.As(err, &le):
		return exitUsage
	}
	return exitFail
}

// report writes the error a command returned to stderr:
//
//	error: HTTP 404: app "demo" not found      (the server refused)
//	error: <reason>                            (anything else)
//
// with the usage line after a usage error.
func (p *pic) report(err error) {
	if err == nil || errors.Is(err, errHelp) {
		return
	}
	w := p.io.ErrOut
	fmt.Fprintf(w, "error: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) && ue.cmd != nil {
		fmt.Fprintf(w, "Usage: %s\n", ue.cmd.synopsis())
		fmt.Fprintf(w, "Run '%s --help' for more.\n", ue.cmd.path())
		return
	}
	var ne *client.NetworkError
	switch {
	case client.StatusOf(err) == 401 && p.tokenSource == "":
		fmt.Fprintf(w, "hint: you are not logged in to %s; run 'pic login' or set %s\n", p.resolvedServer, EnvToken)
	case errors.As(err, &ne):
		fmt.Fprintf(w, "hint: is the server running? Choose another one with --server or %s\n", EnvURL)
	}
}

// conflictDetail returns the number the server put in a 409's details
// under key, when err is such a refusal. The server's message names its
// API parameter (?force=true); with the number, a command can say the
// same in pic's words (--force).
func conflictDetail(err error, key string) (int, bool) {
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusConflict {
		return 0, false
	}
	n, ok := e.Details[key].(float64)
	return int(n), ok
}

// reworded returns err, a server refusal, with its message replaced.
func reworded(err error, format string, a ...any) error {
	var e *client.Error
	if !errors.As(err, &e) {
		return err
	}
	r := *e
	r.Message = fmt.Sprintf(format, a...)
	return &r
}
