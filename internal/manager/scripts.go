package manager

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

func (m *Manager) listAllScripts(w http.ResponseWriter, r *http.Request, c *caller) error {
	scripts, err := m.store.ListScriptsForUser(r.Context(), c.user.ID, c.admin())
	if err != nil {
		return fmt.Errorf("manager: unable to list scripts: %w", err)
	}
	out := make([]api.Script, 0, len(scripts))
	for _, s := range scripts {
		out = append(out, toScript(s.AppSlug, s))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (m *Manager) listScripts(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canRead)
	if err != nil {
		return err
	}
	scripts, err := m.store.ListScripts(r.Context(), app.ID)
	if err != nil {
		return fmt.Errorf("manager: unable to list the scripts of app %q: %w", app.Slug, err)
	}
	out := make([]api.Script, 0, len(scripts))
	for _, s := range scripts {
		out = append(out, toScript(app.Slug, s))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// deployScript stores a new version of a script and makes it live: 201
// when it is the script's first version, 200 otherwise. The source comes
// as JSON {"source": …} or as the raw body with Content-Type text/plain.
// A source that does not compile is 422 with its position, and nothing is
// stored. The visibility (script_visibility.go) comes as JSON
// "visibility" or ?visibility=.
func (m *Manager) deployScript(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canEdit)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := validScriptName(name); err != nil {
		return err
	}
	req, err := readSource(r, m.maxSource)
	if err != nil {
		if he := (*httpx.Error)(nil); errors.As(err, &he) && he.Status == http.StatusRequestEntityTooLarge {
			m.metrics.DeployRefused("source_size")
		}
		return err
	}
	source := req.Source
	if err := m.compile(source); err != nil {
		if c := capOf(err); c != "" {
			m.metrics.DeployRefused(c)
		}
		return compileError(err)
	}
	d, err := deployVisibility(r, req.Visibility, source)
	if err != nil {
		return err
	}
	d.AppID, d.Name, d.Source, d.UserID = app.ID, name, source, c.user.ID
	var (
		s store.Script
		v store.Version
	)
	err = m.change(r.Context(), events.ScriptChanged, app.Slug+"/"+name, func(tx store.Store) (err error) {
		s, v, err = tx.DeployScriptAs(r.Context(), d)
		return storeErr(err, fmt.Sprintf("app %q not found", app.Slug), "")
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if v.Version == 1 {
		status = http.StatusCreated
	}
	m.log.InfoContext(r.Context(), "manager: script deployed", "app", app.Slug, "script", name, "version", v.Version, "user", c.user.Username)
	httpx.WriteJSON(w, status, api.Deployed{Script: toScript(app.Slug, s), Version: v.Version})
	return nil
}

// readSource reads a deploy from a JSON or a text/plain body (the source
// alone), refusing a source longer than limit bytes. A JSON body may be
// twice as long, for the escaping of the source.
func readSource(r *http.Request, limit int64) (api.DeployRequest, error) {
	var req api.DeployRequest
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "text/plain" {
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return req, httpx.BadRequest("cannot read the request body: %v", err)
		}
		req.Source = string(body)
	} else if err := httpx.DecodeJSON(r, &req, 2*limit); err != nil {
		return req, err
	}
	source := req.Source
	switch {
	case int64(len(source)) > limit:
		return req, httpx.TooLarge("the script source is larger than %d bytes (the server's limit)", limit)
	case strings.TrimSpace(source) == "":
		return req, httpx.Invalid("the script source is empty")
	case !utf8.ValidString(source):
		return req, httpx.Invalid("the script source is not valid UTF-8")
	}
	return req, nil
}

// capOf names the compile-time cap a compile error is about, "" when it
// is not about one.
func capOf(err error) string {
	var ee *rhai.EvalError
	if !errors.As(err, &ee) || ee.Parse == nil {
		return ""
	}
	switch ee.Parse.Kind {
	case "ScriptTooLarge":
		return "source_size"
	case "TooManyFunctions":
		return "functions"
	case "TooManyParams":
		return "parameters"
	case "ExprTooDeep":
		return "nesting"
	}
	return ""
}

// compileError turns a compile failure into a 422 whose details give the
// position and kind of the problem.
func compileError(err error) error {
	e := &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "compile_error"}
	var ee *rhai.EvalError
	if !errors.As(err, &ee) {
		e.Message = "the script does not compile: " + err.Error()
		return e
	}
	kind := string(ee.Kind)
	if ee.Parse != nil && ee.Parse.Kind != "" {
		kind = ee.Parse.Kind
	}
	e.Details = map[string]any{"line": int(ee.Pos.Line), "column": int(ee.Pos.Col), "kind": kind}
	if ee.Pos.IsValid() {
		e.Message = fmt.Sprintf("the script does not compile: %s (line %d, column %d)", ee.Msg, ee.Pos.Line, ee.Pos.Col)
	} else {
		e.Message = "the script does not compile: " + ee.Msg
	}
	return e
}

// scriptFor loads the app (with the access need) and the script named in
// the path.
func (m *Manager) scriptFor(r *http.Request, c *caller, need access) (store.App, store.Script, error) {
	app, err := m.appFor(r, c, need)
	if err != nil {
		return app, store.Script{}, err
	}
	name := r.PathValue("name")
	s, err := m.store.GetScript(r.Context(), app.ID, name)
	if err != nil {
		return app, s, storeErr(err, fmt.Sprintf("script %q not found in app %q", name, app.Slug), "")
	}
	return app, s, nil
}

func (m *Manager) showScript(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, s, err := m.scriptFor(r, c, canRead)
	if err != nil {
		return err
	}
	v, err := m.store.GetVersion(r.Context(), s.ID, s.LiveVersion)
	if err != nil {
		return fmt.Errorf("manager: unable to read the live version of %s/%s: %w", app.Slug, s.Name, err)
	}
	httpx.WriteJSON(w, http.StatusOK, api.ScriptSource{Script: toScript(app.Slug, s), Source: v.Source})
	return nil
}

func (m *Manager) deleteScript(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, s, err := m.scriptFor(r, c, canEdit)
	if err != nil {
		return err
	}
	err = m.change(r.Context(), events.ScriptChanged, app.Slug+"/"+s.Name, func(tx store.Store) error {
		return storeErr(tx.DeleteScript(r.Context(), s.ID), fmt.Sprintf("script %q not found in app %q", s.Name, app.Slug), "")
	})
	if err != nil {
		return err
	}
	m.log.InfoContext(r.Context(), "manager: script deleted", "app", app.Slug, "script", s.Name, "user", c.user.Username)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (m *Manager) listVersions(w http.ResponseWriter, r *http.Request, c *caller) error {
	_, s, err := m.scriptFor(r, c, canRead)
	if err != nil {
		return err
	}
	versions, err := m.store.ListVersions(r.Context(), s.ID)
	if err != nil {
		return fmt.Errorf("manager: unable to list the versions of script %d: %w", s.ID, err)
	}
	names := userNames{m: m, r: r}
	out := make([]api.Version, 0, len(versions))
	for _, v := range versions {
		vr, err := names.version(s, v)
		if err != nil {
			return err
		}
		out = append(out, vr)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (m *Manager) showVersion(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, s, err := m.scriptFor(r, c, canRead)
	if err != nil {
		return err
	}
	raw := r.PathValue("version")
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return httpx.NotFound("version %q of script %q not found", raw, s.Name)
	}
	v, err := m.store.GetVersion(r.Context(), s.ID, n)
	if err != nil {
		return storeErr(err, fmt.Sprintf("version %d of script %q in app %q not found", n, s.Name, app.Slug), "")
	}
	names := userNames{m: m, r: r}
	vr, err := names.version(s, v)
	if err != nil {
		return err
	}
	vr.Source = &v.Source
	httpx.WriteJSON(w, http.StatusOK, vr)
	return nil
}

// userNames resolves the authors of versions, reading each user once.
type userNames struct {
	m     *Manager
	r     *http.Request
	cache map[int64]*string
}

func (u *userNames) version(s store.Script, v store.Version) (api.Version, error) {
	by, err := u.name(v.CreatedBy)
	if err != nil {
		return api.Version{}, err
	}
	return api.Version{Version: v.Version, Live: v.Version == s.LiveVersion, CreatedBy: by, CreatedAt: utc(v.CreatedAt),
		RolledBackFrom: v.RolledBackFrom}, nil
}

// name is the user name of id, or nil when the user no longer exists.
func (u *userNames) name(id int64) (*string, error) {
	if id == 0 {
		return nil, nil
	}
	if n, ok := u.cache[id]; ok {
		return n, nil
	}
	if u.cache == nil {
		u.cache = map[int64]*string{}
	}
	user, err := u.m.store.GetUser(u.r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u.cache[id] = nil
	case err != nil:
		return nil, fmt.Errorf("manager: unable to read user %d: %w", id, err)
	default:
		u.cache[id] = &user.Username
	}
	return u.cache[id], nil
}

// maxScriptAttempts bounds a script's max_attempts.
const maxScriptAttempts = 10

// updateScript changes a script's settings: 200 with the script.
func (m *Manager) updateScript(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, s, err := m.scriptFor(r, c, canEdit)
	if err != nil {
		return err
	}
	var req api.ScriptUpdate
	if err := httpx.DecodeJSON(r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if n := req.MaxAttempts; n != nil {
		if *n < 0 || *n > maxScriptAttempts {
			return httpx.Invalid("max_attempts must be between 0 (the default, %d) and %d", store.DefaultMaxAttempts, maxScriptAttempts)
		}
		// The data plane caches it.
		err := m.change(r.Context(), events.ScriptChanged, app.Slug+"/"+s.Name, func(tx store.Store) error {
			return storeErr(tx.SetScriptMaxAttempts(r.Context(), s.ID, *n), fmt.Sprintf("script %q not found in app %q", s.Name, app.Slug), "")
		})
		if err != nil {
			return err
		}
		s.MaxAttempts = *n
	}
	httpx.WriteJSON(w, http.StatusOK, toScript(app.Slug, s))
	return nil
}
