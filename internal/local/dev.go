package local

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/project"
	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
)

// debounce is how long pic dev waits after a change for more before it
// reloads: an editor's save is often several writes.
const debounce = 30 * time.Millisecond

// DevOptions configure pic dev.
type DevOptions struct {
	Dir    string // the project's folder
	Listen string // the address of the data plane, e.g. 127.0.0.1:8787
	// Schedules lets the project's schedules fire.
	Schedules bool
	// Fresh deletes the local state before starting.
	Fresh bool
	// EnvFile holds the app's secrets; "" reads .env in Dir when there
	// is one.
	EnvFile      string
	AllowPrivate bool
	// Log receives the reloads, the errors and a line per invocation.
	Log io.Writer
	// OnReload, when set, is called after each reload (tests, the
	// benchmark).
	OnReload func()
}

// Dev is a running pic dev: a local node over the project's .picloud
// database, serving its data plane and reloading on every change.
type Dev struct {
	opts    DevOptions
	dir     string
	rt      *Runtime
	ln      net.Listener
	srv     *http.Server
	watcher *fsnotify.Watcher
	done    chan struct{}
	envFile string // an env file outside dir, watched too
	logMu   sync.Mutex
}

// StartDev starts pic dev: the node, the project applied, the listener
// and the watcher. A project whose manifest is wrong does not start; a
// script that does not compile is reported and left out until fixed.
func StartDev(ctx context.Context, opts DevOptions) (*Dev, error) {
	p, err := LoadFolder(opts.Dir)
	if err != nil {
		return nil, err
	}
	d := &Dev{opts: opts, dir: p.Dir, done: make(chan struct{})}
	if d.opts.Log == nil {
		d.opts.Log = io.Discard
	}
	state := filepath.Join(d.dir, project.StateDir)
	if opts.Fresh {
		if err := os.RemoveAll(state); err != nil {
			return nil, fmt.Errorf("local: delete the local state: %w", err)
		}
	}
	if err := os.MkdirAll(state, 0o700); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	key, err := stateKey(filepath.Join(state, "secrets.key"))
	if err != nil {
		return nil, err
	}
	secretValues, err := d.readSecrets()
	if err != nil {
		return nil, err
	}
	d.rt, err = Start(ctx, Options{SQLite: filepath.Join(state, "local.db"), SecretsKey: key, OnRecord: d.logRecord})
	if err != nil {
		return nil, err
	}
	if err := d.start(ctx, p, secretValues); err != nil {
		d.rt.Close(context.Background())
		return nil, err
	}
	return d, nil
}

// start applies the project, listens and watches.
func (d *Dev) start(ctx context.Context, p *project.Project, secretValues map[string]string) error {
	d.apply(ctx, p)
	if err := d.rt.SetSecrets(ctx, secretValues); err != nil {
		return err
	}
	for _, name := range p.RequiredSecrets {
		if _, ok := secretValues[name]; !ok {
			d.logf("warning: the secret %s that %s requires is not in the env file", name, project.ManifestName)
		}
	}
	ln, err := net.Listen("tcp", d.opts.Listen)
	if err != nil {
		return fmt.Errorf("local: listen: %w", err)
	}
	d.ln = ln
	d.srv = &http.Server{Handler: d.logUnrun(d.rt.Handler()), ReadHeaderTimeout: 10 * time.Second}
	go d.srv.Serve(ln)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("local: watch %s: %w", d.dir, err)
	}
	d.watcher = w
	if err := w.Add(d.dir); err != nil {
		w.Close()
		return fmt.Errorf("local: watch %s: %w", d.dir, err)
	}
	d.watchScriptDirs(p)
	if d.opts.EnvFile != "" {
		// An env file outside the folder is watched as well.
		if env, err := filepath.Abs(d.opts.EnvFile); err == nil && filepath.Dir(env) != d.dir {
			d.envFile = env
			w.Add(filepath.Dir(env))
		}
	}
	go d.watch()
	return nil
}

// logUnrun logs the requests that ran no script (an unknown script, a
// refused request), which have no invocation record to log.
func (d *Dev) logUnrun(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		if sw.Header().Get(client.InvocationHeader) == "" && r.URL.Path != "/healthz" {
			d.logf("%s %s %s %d %s (no script ran)", start.Format("15:04:05"), r.Method, r.URL.RequestURI(), sw.status,
				time.Since(start).Round(10*time.Microsecond))
		}
	})
}

// statusWriter notes the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Addr is the address the data plane listens on.
func (d *Dev) Addr() string { return d.ln.Addr().String() }

// App is the app's slug.
func (d *Dev) App() string { return d.rt.App() }

// Close stops watching and serving, then the node.
func (d *Dev) Close(ctx context.Context) error {
	d.watcher.Close()
	<-d.done
	err := d.srv.Shutdown(ctx)
	return errors.Join(err, d.rt.Close(ctx))
}

// watchScriptDirs watches the folders of scripts outside the project's
// own ([scripts.NAME] file = "lib/x.rhai").
func (d *Dev) watchScriptDirs(p *project.Project) {
	for _, s := range p.Scripts {
		dir := filepath.Dir(filepath.Join(d.dir, filepath.FromSlash(s.File)))
		if dir != d.dir {
			d.watcher.Add(dir)
		}
	}
}

// watch reloads the project after each burst of changes.
func (d *Dev) watch() {
	defer close(d.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case ev, ok := <-d.watcher.Events:
			if !ok {
				timer.Stop()
				return
			}
			if d.relevant(ev.Name) {
				timer.Reset(debounce)
			}
		case err, ok := <-d.watcher.Errors:
			if !ok {
				return
			}
			d.logf("watch: %v", err)
		case <-timer.C:
			d.reload()
		}
	}
}

// relevant tells the changes that may change the project: not those of
// the local state, nor editors' temporary files.
func (d *Dev) relevant(name string) bool {
	if d.envFile != "" && filepath.Dir(name) == filepath.Dir(d.envFile) {
		return name == d.envFile
	}
	rel, err := filepath.Rel(d.dir, name)
	if err != nil || rel == project.StateDir || strings.HasPrefix(rel, project.StateDir+string(filepath.Separator)) {
		return false
	}
	base := filepath.Base(name)
	return !strings.HasPrefix(base, ".#") && !strings.HasSuffix(base, "~") && !strings.HasSuffix(base, ".swp")
}

// reload loads the project again and applies what changed; on a
// manifest error the last good project keeps serving.
func (d *Dev) reload() {
	ctx := context.Background()
	defer func() {
		if d.opts.OnReload != nil {
			d.opts.OnReload()
		}
	}()
	p, err := LoadFolder(d.dir)
	if err != nil {
		d.logf("%v\nthe last good project keeps serving", err)
		return
	}
	if ok := d.apply(ctx, p); ok {
		d.logf("reloaded %s (%d scripts)", p.App, len(p.Scripts))
	}
	values, err := d.readSecrets()
	if err == nil {
		err = d.rt.SetSecrets(ctx, values)
	}
	if err != nil {
		d.logf("%v", err)
	}
	d.watchScriptDirs(p)
}

// apply applies p and prints what failed: a compile error at its
// file:line:column with a caret. It reports whether all went well.
func (d *Dev) apply(ctx context.Context, p *project.Project) bool {
	err := d.rt.Apply(ctx, p, ApplyOptions{Schedules: d.opts.Schedules, AllowPrivate: d.opts.AllowPrivate})
	if err == nil {
		return true
	}
	for _, e := range unjoin(err) {
		var ce *CompileError
		if errors.As(e, &ce) {
			d.logf("%s\nthe last good version of %s keeps serving", project.FormatCompileError(ce.File, ce.Source, ce.Err), ce.File)
		} else {
			d.logf("%v", e)
		}
	}
	return false
}

// unjoin lists the errors an errors.Join holds.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// readSecrets reads the env file: the one named, else .env in the
// folder when there is one.
func (d *Dev) readSecrets() (map[string]string, error) {
	path := d.opts.EnvFile
	if path == "" {
		path = filepath.Join(d.dir, ".env")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	return ReadEnvFile(path)
}

// logRecord prints one invocation: time, method, path, status, duration
// and operations, then the script's print output under it.
func (d *Dev) logRecord(inv store.Invocation) {
	what := inv.Trigger + " " + inv.AppSlug + "/" + inv.Script
	if r := inv.Request; r != nil {
		what = r.Method + " /fn/" + inv.AppSlug + "/" + inv.Script + r.Path
		if r.Query != "" {
			what += "?" + r.Query
		}
		if inv.Trigger != store.TriggerHTTP {
			what += " (" + inv.Trigger + fmt.Sprintf(", attempt %d)", inv.Attempt)
		}
	}
	status := fmt.Sprint(inv.HTTPStatus)
	if inv.Status != store.StatusOK {
		status += " " + inv.Status
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %s %d ops", inv.StartedAt.Local().Format("15:04:05"), what, status,
		inv.Duration.Round(time.Microsecond*10), inv.Operations)
	if inv.Status != store.StatusOK && inv.Summary != "" {
		fmt.Fprintf(&b, "\n  %s", inv.Summary)
	}
	for _, line := range strings.Split(strings.TrimRight(inv.Output, "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(&b, "\n  | %s", line)
		}
	}
	d.logf("%s", b.String())
}

func (d *Dev) logf(format string, a ...any) {
	d.logMu.Lock()
	defer d.logMu.Unlock()
	fmt.Fprintf(d.opts.Log, format+"\n", a...)
}

// SecretNames lists the names of the secrets the env file sets.
func (d *Dev) SecretNames() []string {
	values, _ := d.readSecrets()
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// stateKey reads the key that seals the local app's secrets, made on the
// first start.
func stateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil && len(key) == secrets.KeySize {
		return key, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("local: %w", err)
	}
	key = make([]byte, secrets.KeySize)
	rand.Read(key)
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	return key, nil
}
