// Package web holds the dashboard: a SvelteKit single-page app whose
// sources are in src/ and whose built files, committed in dist/, are
// embedded in the binary, so that `go build` alone gives a picloud with
// its dashboard. Rebuild dist/ with `npm ci && npm run build` after
// changing the sources; check-dist.sh checks that they match.
package web

import (
	"embed"
	"fmt"
	"io/fs"
)

// The all: prefix keeps dist/_app, which a plain pattern would skip for
// its leading underscore.
//
//go:embed all:dist
var dist embed.FS

// Dist returns the built dashboard: index.html at its root, the hashed,
// immutable assets under _app/immutable/.
func Dist() (fs.FS, error) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return sub, nil
}
