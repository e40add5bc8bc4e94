package project

import "fmt"

// ManifestError is a mistake in a project's manifest, at a line and
// column of it (both from 1; 0 when the mistake has no place, such as a
// missing manifest).
type ManifestError struct {
	File string // the manifest's name, as the user sees it
	Line int
	Col  int
	Msg  string
}

// Error reads "picloud.toml:LINE:COL: message", as compilers print.
func (e *ManifestError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}
