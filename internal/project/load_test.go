package project

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/api"
)

// folder writes files (name → text) into a new temporary folder.
func folder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLoad reads a manifest with every key and the default scripts.
func TestLoad(t *testing.T) {
	dir := folder(t, map[string]string{
		ManifestName: `app = "shop"

[scripts.api]
file = "src/api.rhai"
attempts = 5
visibility = "private"

[scripts.cart]
visibility = "public"

[[schedules]]
script = "api"
cron = "*/5 * * * *"
tz = "Europe/Paris"
payload = { b = [1, "x", true], a = 1.5 }

[[schedules]]
script = "cart"
cron = "@daily"
enabled = false

[outbound]
allow = ["api.example.com", "*.stripe.com"]

[secrets]
required = ["API_TOKEN", "DB_URL"]

[limits]
timeout_ms = 2000
max_memory_mb = 64
kv_max_keys = 1000
`,
		"src/api.rhai":      "1",
		"cart.rhai":         "2",
		"zeta.rhai":         "3",
		"cart_test.rhai":    "fn test_x() {}",
		"notes.txt":         "not a script",
		"lib/helper.rhai":   "only in a sub-folder",
		".picloud/old.rhai": "state",
	})
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &Project{
		Dir: dir,
		App: "shop",
		Scripts: []Script{
			{Name: "api", File: "src/api.rhai", Source: "1", Visibility: api.VisibilityPrivate, MaxAttempts: 5},
			{Name: "cart", File: "cart.rhai", Source: "2"},
			{Name: "zeta", File: "zeta.rhai", Source: "3"},
		},
		Schedules: []Schedule{
			{Script: "api", Cron: "*/5 * * * *", Timezone: "Europe/Paris", Payload: []byte(`{"a":1.5,"b":[1,"x",true]}`), Enabled: true},
			{Script: "cart", Cron: "@daily", Enabled: false},
		},
		Outbound:        &Outbound{Allow: []string{"api.example.com", "*.stripe.com"}},
		Limits:          &api.AppLimits{TimeoutMS: 2000, MaxMemoryMB: 64, KVMaxKeys: 1000},
		RequiredSecrets: []string{"API_TOKEN", "DB_URL"},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got  %+v\nwant %+v", p, want)
	}
}

// TestLoadMinimal: app alone makes every NAME.rhai a script, and leaves
// schedules, outbound and limits undeclared (nil: the server keeps its).
func TestLoadMinimal(t *testing.T) {
	dir := folder(t, map[string]string{ManifestName: `app = "a1"`, "b.rhai": "2", "a.rhai": "1"})
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Scripts) != 2 || p.Scripts[0].Name != "a" || p.Scripts[1].Name != "b" {
		t.Errorf("scripts %+v, want a then b", p.Scripts)
	}
	if p.Schedules != nil || p.Outbound != nil || p.Limits != nil || p.RequiredSecrets != nil {
		t.Errorf("undeclared sections set: %+v", p)
	}
	if !filepath.IsAbs(p.Dir) {
		t.Errorf("dir %q is not absolute", p.Dir)
	}
}

// TestLoadErrors: every mistake is picloud.toml:LINE:COL: message.
func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, manifest string
		files          map[string]string
		want           string
	}{
		{"syntax", "app = \n", nil, "picloud.toml:1:7: unexpected character U+000A at start of value"},
		{"missing app", "[outbound]\nallow = []\n", nil, `picloud.toml:1:1: the app is missing: add app = "SLUG" at the top`},
		{"bad slug", "# c\napp = \"Shop\"\n", nil, `picloud.toml:2:1: invalid app slug "Shop": use 1-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen`},
		{"app type", "app = 3\n", nil, "picloud.toml:1:7: app must be a string, not an integer"},
		{"unknown top key", "app = \"a\"\nname = \"x\"\n", nil,
			`picloud.toml:2:1: unknown key "name"; the keys are app, scripts, schedules, outbound, secrets, limits`},
		{"unknown script key", "app = \"a\"\n[scripts.hello]\n  timeout = 3\n", map[string]string{"hello.rhai": ""},
			`picloud.toml:3:3: unknown key "timeout" in [scripts.hello]; the keys are file, attempts, visibility`},
		{"unknown table", "app = \"a\"\n[secret]\nrequired = []\n", nil,
			`picloud.toml:2:2: unknown key "secret"; the keys are app, scripts, schedules, outbound, secrets, limits`},
		{"attempts type", "app = \"a\"\n[scripts.hello]\nattempts = \"5\"\n", nil,
			`picloud.toml:3:12: scripts.hello.attempts must be an integer, not a string`},
		{"enabled type", "app = \"a\"\n[[schedules]]\nscript = \"x\"\nenabled = 1\n", nil,
			`picloud.toml:4:11: schedules.enabled must be a boolean (true or false), not an integer`},
		{"allow type", "app = \"a\"\n[outbound]\nallow = \"x.com\"\n", nil,
			`picloud.toml:3:9: outbound.allow must be an array of strings, not a string`},
		{"missing default file", "app = \"a\"\n\n[scripts.hello]\nattempts = 2\n", nil,
			`picloud.toml:3:10: script "hello": file hello.rhai does not exist`},
		{"missing file", "app = \"a\"\n[scripts.hello]\nfile = \"src/hello.rhai\"\n", nil,
			`picloud.toml:3:1: script "hello": file src/hello.rhai does not exist`},
		{"file outside", "app = \"a\"\n[scripts.hello]\nfile = \"../x.rhai\"\n", nil,
			`picloud.toml:3:1: file "../x.rhai" must be a path inside the project folder`},
		{"file not rhai", "app = \"a\"\n[scripts.hello]\nfile = \"x.js\"\n", nil,
			`picloud.toml:3:1: file "x.js" must end with .rhai`},
		{"same file", "app = \"a\"\n[scripts.a]\nfile = \"x.rhai\"\n[scripts.b]\nfile = \"x.rhai\"\n", map[string]string{"x.rhai": ""},
			`picloud.toml:4:10: scripts "a" and "b" have the same file "x.rhai"`},
		{"bad script name", "app = \"a\"\n[scripts.\"-x\"]\nfile = \"x.rhai\"\n", map[string]string{"x.rhai": ""},
			`picloud.toml:2:10: invalid script name "-x": use 1-64 letters, digits, '_' and '-', not starting with '-'`},
		{"bad file name", "app = \"a\"\n", map[string]string{"my script.rhai": ""},
			`picloud.toml: my script.rhai is no valid script name: rename the file (1-64 letters, digits, '_' and '-', not starting with '-') or give it a [scripts.NAME] section`},
		{"visibility", "app = \"a\"\n[scripts.hello]\nvisibility = \"hidden\"\n", map[string]string{"hello.rhai": ""},
			`picloud.toml:3:1: visibility must be "public" or "private", not "hidden"`},
		{"attempts range", "app = \"a\"\n[scripts.hello]\nattempts = 11\n", map[string]string{"hello.rhai": ""},
			`picloud.toml:3:1: attempts must be between 0 (the server's default) and 10`},
		{"unknown schedule script", "app = \"a\"\n\n[[schedules]]\nscript = \"nope\"\ncron = \"@daily\"\n", map[string]string{"hello.rhai": ""},
			`picloud.toml:4:1: schedule of unknown script "nope"`},
		{"schedule without script", "app = \"a\"\n[[schedules]]\ncron = \"@daily\"\n", nil,
			`picloud.toml:2:3: the schedule has no script`},
		{"schedule without cron", "app = \"a\"\n[[schedules]]\nscript = \"hello\"\n", map[string]string{"hello.rhai": ""},
			`picloud.toml:2:3: the schedule of "hello" has no cron`},
		{"bad cron", "app = \"a\"\n[[schedules]]\nscript = \"hello\"\ncron = \"61 * * * *\"\n", map[string]string{"hello.rhai": ""},
			`picloud.toml:4:1: invalid cron expression "61 * * * *": end of range (61) above maximum (59): 61`},
		{"second schedule's cron", "app = \"a\"\n[[schedules]]\nscript = \"hello\"\ncron = \"@daily\"\n[[schedules]]\nscript = \"hello\"\n  cron = \"@every 1m\"\n", map[string]string{"hello.rhai": ""},
			`picloud.toml:7:3: unknown shortcut "@every 1m": use @yearly, @monthly, @weekly, @daily or @hourly`},
		{"bad zone", "app = \"a\"\n[[schedules]]\nscript = \"hello\"\ncron = \"@daily\"\ntz = \"Mars/Olympus\"\n", map[string]string{"hello.rhai": ""},
			`picloud.toml:5:1: unknown time zone "Mars/Olympus": use an IANA name such as Europe/Paris or America/New_York`},
		{"duplicate schedule", "app = \"a\"\n[[schedules]]\nscript = \"hello\"\ncron = \"@daily\"\n[[schedules]]\nscript = \"hello\"\ncron = \"@daily\"\n", map[string]string{"hello.rhai": ""},
			`picloud.toml:5:3: the same schedule as schedules #1 (script, cron and tz are equal)`},
		{"inline schedules", "app = \"a\"\nschedules = [{ script = \"hello\", cron = \"@daily\" }, { script = \"hello\", cron = \"bad\" }]\n", map[string]string{"hello.rhai": ""},
			`picloud.toml:2:73: invalid cron expression "bad": expected exactly 5 fields, found 1: [bad]`},
		{"bad host", "app = \"a\"\n[outbound]\nallow = [\"ok.com\", \"http://x.com/\"]\n", nil,
			`picloud.toml:3:20: invalid host "http://x.com/": write a host name such as api.example.com`},
		{"host twice", "app = \"a\"\n[outbound]\nallow = [\"ok.com\", \"ok.com\"]\n", nil,
			`picloud.toml:3:20: host "ok.com" is listed twice`},
		{"secret name", "app = \"a\"\n[secrets]\nrequired = [\"api_token\"]\n", nil,
			`picloud.toml:3:13: invalid secret name "api_token": use 1-64 upper-case letters, digits and '_', not starting with a digit (like API_TOKEN)`},
		{"secret twice", "app = \"a\"\n[secrets]\nrequired = [\"A\", \"B\", \"A\"]\n", nil,
			`picloud.toml:3:23: secret "A" is listed twice`},
		{"negative limit", "app = \"a\"\n[limits]\ntimeout_ms = -1\n", nil,
			`picloud.toml:3:1: limits.timeout_ms must not be negative (0 is the server's default)`},
		{"unknown limit", "app = \"a\"\n[limits]\ntimeout = 1000\n", nil,
			`picloud.toml:3:1: unknown key "timeout" in [limits]; the keys are timeout_ms, max_operations, max_body_bytes, max_memory_mb, kv_max_value_bytes, kv_max_bytes, kv_max_keys, max_running_jobs, max_queued_bytes, max_recorded_bytes, max_inflight`},
		{"duplicate key", "app = \"a\"\napp = \"b\"\n", nil, "picloud.toml:2:1: key app is already defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{ManifestName: tc.manifest}
			for k, v := range tc.files {
				files[k] = v
			}
			_, err := Load(folder(t, files))
			var me *ManifestError
			if !errors.As(err, &me) {
				t.Fatalf("error %v (%T), want a *ManifestError", err, err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n %s\nwant\n %s", err, tc.want)
			}
		})
	}
}

// TestLoadNoManifest: a folder without picloud.toml says how to make one.
func TestLoadNoManifest(t *testing.T) {
	_, err := Load(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "has no picloud.toml (pic init writes one)") {
		t.Errorf("error %v", err)
	}
}

// TestDeploy: the body carries every script and only declared sections.
func TestDeploy(t *testing.T) {
	p := &Project{App: "a", Scripts: []Script{{Name: "s", File: "s.rhai", Source: "1", Visibility: api.VisibilityPrivate, MaxAttempts: 4}}}
	d := p.Deploy("m", true, true)
	b, _ := json.Marshal(d)
	want := `{"message":"m","scripts":[{"name":"s","source":"1","file":"s.rhai","visibility":"private","max_attempts":4}],"schedules":null,"outbound_allow":null,"prune":true,"dry_run":true}`
	if string(b) != want {
		t.Errorf("body %s\nwant %s", b, want)
	}
	// Declared and empty: no schedules, no public hosts.
	p.Schedules, p.Outbound = []Schedule{}, &Outbound{Allow: []string{}}
	b, _ = json.Marshal(p.Deploy("", false, false))
	want = `{"scripts":[{"name":"s","source":"1","file":"s.rhai","visibility":"private","max_attempts":4}],"schedules":[],"outbound_allow":[]}`
	if string(b) != want {
		t.Errorf("body %s\nwant %s", b, want)
	}
	p.Schedules = []Schedule{{Script: "s", Cron: "@daily", Payload: []byte(`{"a":1}`)}}
	p.Outbound = &Outbound{Allow: []string{"x.com"}}
	p.RequiredSecrets = []string{"K"}
	p.Limits = &api.AppLimits{TimeoutMS: 5}
	b, _ = json.Marshal(p.Deploy("", false, false))
	want = `{"scripts":[{"name":"s","source":"1","file":"s.rhai","visibility":"private","max_attempts":4}],` +
		`"schedules":[{"script":"s","cron":"@daily","payload":{"a":1},"enabled":false}],"outbound_allow":["x.com"],` +
		`"required_secrets":["K"],"limits":{"timeout_ms":5}}`
	if string(b) != want {
		t.Errorf("body %s\nwant %s", b, want)
	}
}

// TestLoadForms: a section that renames a root file claims it, and a
// payload may be written as a table with dotted keys.
func TestLoadForms(t *testing.T) {
	dir := folder(t, map[string]string{
		ManifestName: "app = \"a\"\nscripts.greet.file = \"hello.rhai\"\n\n[[schedules]]\nscript = \"greet\"\ncron = \"@hourly\"\n\n" +
			"[schedules.payload]\nto.team = \"ops\"\nlevels = [1, 2]\n",
		"hello.rhai": "1",
	})
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Scripts) != 1 || p.Scripts[0].Name != "greet" || p.Scripts[0].File != "hello.rhai" {
		t.Errorf("scripts %+v, want greet alone from hello.rhai", p.Scripts)
	}
	if len(p.Schedules) != 1 || string(p.Schedules[0].Payload) != `{"levels":[1,2],"to":{"team":"ops"}}` {
		t.Errorf("schedules %+v", p.Schedules)
	}
	// A mistake under a dotted key points at it.
	dir = folder(t, map[string]string{ManifestName: "app = \"a\"\nscripts.greet.visibility = \"x\"\n", "greet.rhai": ""})
	if _, err := Load(dir); err == nil || err.Error() != `picloud.toml:2:15: visibility must be "public" or "private", not "x"` {
		t.Errorf("error %v", err)
	}
}
