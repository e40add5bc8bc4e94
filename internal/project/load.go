package project

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/scheduler"
)

// Names, as the server accepts them (internal/manager keeps the same
// rules for its API).
var (
	slugPattern       = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	scriptNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_-]{0,63}$`)
	secretNamePattern = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,63}$`)
)

// MaxAttempts is the most attempts a script's jobs may have, and
// DefaultAttempts what they have when the script sets none, as on the
// server.
const (
	MaxAttempts     = 10
	DefaultAttempts = 3
)

// ScriptExt and TestSuffix name a project's scripts and its test files.
const (
	ScriptExt  = ".rhai"
	TestSuffix = "_test.rhai"
)

// Load reads and validates the project in dir. A mistake in the manifest
// is a *ManifestError with its line and column.
func Load(dir string) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	doc, err := os.ReadFile(filepath.Join(abs, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("project: %s has no %s (pic init writes one)", dir, ManifestName)
	}
	if err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	m, err := decode(doc)
	if err != nil {
		return nil, err
	}
	l := loader{dir: abs, m: m, at: indexPositions(doc), p: &Project{Dir: abs, App: m.App}}
	if err := l.load(); err != nil {
		return nil, err
	}
	return l.p, nil
}

// loader validates a decoded manifest into a Project.
type loader struct {
	dir string
	m   *manifest
	at  positions
	p   *Project
}

// errorf is a ManifestError at the place of the key path.
func (l *loader) errorf(path, format string, a ...any) error {
	p := l.at.at(path)
	return &ManifestError{File: ManifestName, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, a...)}
}

func (l *loader) load() error {
	switch {
	case l.m.App == "" && l.at["app"] == pos{}:
		return &ManifestError{File: ManifestName, Line: 1, Col: 1, Msg: `the app is missing: add app = "SLUG" at the top`}
	case !slugPattern.MatchString(l.m.App):
		return l.errorf("app", "invalid app slug %q: use 1-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen", l.m.App)
	}
	for _, step := range []func() error{l.scripts, l.schedules, l.outbound, l.secrets, l.limits} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// scripts reads the [scripts.NAME] sections, then every other NAME.rhai
// of the folder's root, sorted by name.
func (l *loader) scripts() error {
	claimed := map[string]string{} // file → script
	for _, name := range sortedKeys(l.m.Scripts) {
		s, err := l.script(name, l.m.Scripts[name])
		if err != nil {
			return err
		}
		if other, ok := claimed[s.File]; ok {
			return l.errorf("scripts."+name, "scripts %q and %q have the same file %q", other, name, s.File)
		}
		claimed[s.File] = name
		l.p.Scripts = append(l.p.Scripts, s)
	}
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("project: %w", err)
	}
	for _, e := range entries {
		file := e.Name()
		if e.IsDir() || !strings.HasSuffix(file, ScriptExt) || strings.HasSuffix(file, TestSuffix) || claimed[file] != "" {
			continue
		}
		name := strings.TrimSuffix(file, ScriptExt)
		if _, ok := l.m.Scripts[name]; ok {
			continue // [scripts.NAME] gave NAME another file
		}
		if !scriptNamePattern.MatchString(name) {
			return &ManifestError{File: ManifestName, Msg: fmt.Sprintf("%s is no valid script name: rename the file (1-64 letters, digits, '_' and '-', not starting with '-') or give it a [scripts.NAME] section", file)}
		}
		src, err := os.ReadFile(filepath.Join(l.dir, file))
		if err != nil {
			return fmt.Errorf("project: %w", err)
		}
		l.p.Scripts = append(l.p.Scripts, Script{Name: name, File: file, Source: string(src)})
	}
	slices.SortFunc(l.p.Scripts, func(a, b Script) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

// script validates one [scripts.NAME] section and reads its file.
func (l *loader) script(name string, e scriptEntry) (Script, error) {
	key := "scripts." + name
	if !scriptNamePattern.MatchString(name) {
		return Script{}, l.errorf(key, "invalid script name %q: use 1-64 letters, digits, '_' and '-', not starting with '-'", name)
	}
	s := Script{Name: name, File: name + ScriptExt}
	if e.File != "" {
		file, err := cleanFile(e.File)
		if err != nil {
			return Script{}, l.errorf(key+".file", "%v", err)
		}
		s.File = file
	}
	switch e.Visibility {
	case "", api.VisibilityPublic:
	case api.VisibilityPrivate:
		s.Visibility = api.VisibilityPrivate
	default:
		return Script{}, l.errorf(key+".visibility", "visibility must be %q or %q, not %q", api.VisibilityPublic, api.VisibilityPrivate, e.Visibility)
	}
	if e.Attempts != nil {
		if *e.Attempts < 0 || *e.Attempts > MaxAttempts {
			return Script{}, l.errorf(key+".attempts", "attempts must be between 0 (the server's default) and %d", MaxAttempts)
		}
		s.MaxAttempts = *e.Attempts
	}
	src, err := os.ReadFile(filepath.Join(l.dir, filepath.FromSlash(s.File)))
	if errors.Is(err, fs.ErrNotExist) {
		where := key + ".file"
		if e.File == "" {
			where = key
		}
		return Script{}, l.errorf(where, "script %q: file %s does not exist", name, s.File)
	}
	if err != nil {
		return Script{}, fmt.Errorf("project: script %q: %w", name, err)
	}
	s.Source = string(src)
	return s, nil
}

// cleanFile checks that a script's file is a .rhai file inside the
// project and returns it slash-separated and clean.
func cleanFile(file string) (string, error) {
	f := path.Clean(filepath.ToSlash(file))
	switch {
	case path.IsAbs(f) || filepath.IsAbs(file) || f == ".." || strings.HasPrefix(f, "../"):
		return "", fmt.Errorf("file %q must be a path inside the project folder", file)
	case !strings.HasSuffix(f, ScriptExt):
		return "", fmt.Errorf("file %q must end with %s", file, ScriptExt)
	case f == StateDir || strings.HasPrefix(f, StateDir+"/"):
		return "", fmt.Errorf("file %q is in %s, the local state folder", file, StateDir)
	}
	return f, nil
}

// schedules validates [[schedules]]: a known script, a cron expression
// and a zone the server's scheduler accepts, a payload as JSON.
func (l *loader) schedules() error {
	if l.m.Schedules == nil {
		return nil
	}
	l.p.Schedules = []Schedule{}
	seen := map[[3]string]int{}
	for i, e := range l.m.Schedules {
		key := fmt.Sprintf("schedules.%d", i)
		switch {
		case e.Script == "":
			return l.errorf(key, "the schedule has no script")
		case !l.p.hasScript(e.Script):
			return l.errorf(key+".script", "schedule of unknown script %q", e.Script)
		case e.Cron == "":
			return l.errorf(key, "the schedule of %q has no cron", e.Script)
		}
		if _, err := scheduler.LoadZone(e.TZ); err != nil {
			return l.errorf(key+".tz", "%v", err)
		}
		if _, err := scheduler.ParseSpec(e.Cron, e.TZ); err != nil {
			return l.errorf(key+".cron", "%v", err)
		}
		id := [3]string{e.Script, e.Cron, e.TZ}
		if j, ok := seen[id]; ok {
			return l.errorf(key, "the same schedule as schedules #%d (script, cron and tz are equal)", j+1)
		}
		seen[id] = i
		s := Schedule{Script: e.Script, Cron: e.Cron, Timezone: e.TZ, Enabled: e.Enabled == nil || *e.Enabled}
		if e.Payload != nil {
			b, err := json.Marshal(e.Payload)
			if err != nil {
				return l.errorf(key+".payload", "the payload cannot be JSON: %v", err)
			}
			s.Payload = b
		}
		l.p.Schedules = append(l.p.Schedules, s)
	}
	return nil
}

func (p *Project) hasScript(name string) bool {
	return slices.ContainsFunc(p.Scripts, func(s Script) bool { return s.Name == name })
}

// outbound validates [outbound]: host names, each once.
func (l *loader) outbound() error {
	if l.m.Outbound == nil {
		return nil
	}
	allow := []string{}
	for i, h := range l.m.Outbound.Allow {
		key := fmt.Sprintf("outbound.allow.%d", i)
		switch {
		case h == "" || strings.ContainsAny(h, " /\t"):
			return l.errorf(key, "invalid host %q: write a host name such as api.example.com", h)
		case slices.Contains(allow, h):
			return l.errorf(key, "host %q is listed twice", h)
		}
		allow = append(allow, h)
	}
	l.p.Outbound = &Outbound{Allow: allow}
	return nil
}

// secrets validates [secrets] required: secret names, each once.
func (l *loader) secrets() error {
	if l.m.Secrets == nil {
		return nil
	}
	for i, name := range l.m.Secrets.Required {
		key := fmt.Sprintf("secrets.required.%d", i)
		switch {
		case !secretNamePattern.MatchString(name):
			return l.errorf(key, "invalid secret name %q: use 1-64 upper-case letters, digits and '_', not starting with a digit (like API_TOKEN)", name)
		case slices.Contains(l.p.RequiredSecrets, name):
			return l.errorf(key, "secret %q is listed twice", name)
		}
		l.p.RequiredSecrets = append(l.p.RequiredSecrets, name)
	}
	return nil
}

// limits validates [limits]: no negative number (the server checks the
// upper bounds, which it may raise).
func (l *loader) limits() error {
	e := l.m.Limits
	if e == nil {
		return nil
	}
	lim := api.AppLimits(*e)
	for _, f := range []struct {
		key string
		v   int64
	}{
		{"timeout_ms", e.TimeoutMS}, {"max_operations", e.MaxOperations}, {"max_body_bytes", e.MaxBodyBytes},
		{"max_memory_mb", e.MaxMemoryMB}, {"kv_max_value_bytes", e.KVMaxValueBytes}, {"kv_max_bytes", e.KVMaxBytes},
		{"kv_max_keys", e.KVMaxKeys}, {"max_running_jobs", e.MaxRunningJobs}, {"max_queued_bytes", e.MaxQueuedBytes},
		{"max_recorded_bytes", e.MaxRecordedBytes}, {"max_inflight", e.MaxInflight},
	} {
		if f.v < 0 {
			return l.errorf("limits."+f.key, "limits.%s must not be negative (0 is the server's default)", f.key)
		}
	}
	l.p.Limits = &lim
	return nil
}
