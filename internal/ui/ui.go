// Package ui serves the dashboard (package web) under /ui/: its files as
// they were built, and index.html for every other path below /ui/, where
// the single-page app routes in the browser.
//
// Caching: the files under _app/immutable/ have content hashes in their
// names and are cached for a year; everything else (index.html,
// version.json) must be revalidated, with an ETag, so that a new binary's
// dashboard shows at the next load. Every response carries a Content
// Security Policy that allows nothing but this origin, so the dashboard
// makes no request elsewhere, and the one inline script SvelteKit's page
// starts with is allowed by its hash.
package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/picloud/picloud/web"
)

// Prefix is where the dashboard is served. It is built into the
// dashboard's files (paths.base in web/svelte.config.js), so it is fixed.
const Prefix = "/ui/"

// file is one embedded file, read once.
type file struct {
	body []byte
	etag string
}

type handler struct {
	files map[string]file // by path relative to dist, "index.html"
	csp   string
}

// Handler returns the handler of GET and HEAD requests under Prefix.
func Handler() http.Handler {
	fsys, err := web.Dist()
	var h *handler
	if err == nil {
		h, err = newHandler(fsys)
	}
	if err != nil {
		// The files are embedded at build time: a failure here is a
		// broken build, reported on every request rather than by a panic.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "ui: "+err.Error(), http.StatusInternalServerError)
		})
	}
	return h
}

func newHandler(fsys fs.FS) (*handler, error) {
	h := &handler{files: make(map[string]file)}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h.files[p] = file{body: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui: read the dashboard: %w", err)
	}
	index, ok := h.files["index.html"]
	if !ok {
		return nil, fmt.Errorf("ui: the dashboard has no index.html; build it with 'cd web && npm ci && npm run build'")
	}
	h.csp = contentSecurityPolicy(index.body)
	return h, nil
}

var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// contentSecurityPolicy allows this origin only, plus the inline scripts
// of index.html by their hashes. Styles may be inline: the code editor
// and Svelte set style attributes.
func contentSecurityPolicy(index []byte) string {
	scripts := []string{"'self'"}
	for _, m := range inlineScript.FindAllSubmatch(index, -1) {
		sum := sha256.Sum256(m[1])
		scripts = append(scripts, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return "default-src 'self'; script-src " + strings.Join(scripts, " ") +
		"; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'" +
		"; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	rel = strings.TrimPrefix(path.Clean("/"+rel), "/")
	f, ok := h.files[rel]
	switch {
	case ok:
	case strings.HasPrefix(rel, "_app/") || path.Ext(rel) != "":
		// A missing asset is a 404, not the app: a stale page asking
		// for an old chunk must fail visibly, not parse HTML as script.
		http.NotFound(w, r)
		return
	default:
		// A route of the app: the browser renders it from index.html.
		rel, f = "index.html", h.files["index.html"]
	}

	hd := w.Header()
	if strings.HasPrefix(rel, "_app/immutable/") {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	hd.Set("ETag", f.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY") // no file of the dashboard is for a frame
	if rel == "index.html" {
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Content-Security-Policy", h.csp)
	}
	// ServeContent sets the Content-Type from the extension, answers
	// If-None-Match with 304 and handles Range and HEAD.
	http.ServeContent(w, r, path.Base(rel), time.Time{}, bytes.NewReader(f.body))
}
