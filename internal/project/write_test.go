package project

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/api"
)

// TestWriteRoundTrip: what Write writes, Load reads back the same.
func TestWriteRoundTrip(t *testing.T) {
	for _, p := range []*Project{
		{
			App: "shop",
			Scripts: []Script{
				{Name: "api", File: "api.rhai", Source: "let x = 1;\nx\n", MaxAttempts: 7},
				{Name: "lib-util", File: "lib/util.rhai", Source: "fn f() { 1 }\n", Visibility: api.VisibilityPrivate},
				{Name: "plain", File: "plain.rhai", Source: ""},
			},
			Schedules: []Schedule{
				{Script: "api", Cron: "*/5 * * * *", Timezone: "Europe/Paris", Enabled: true,
					Payload: []byte(`{"a b":"q\"uote\\\n\u0001","big":1e+21,"f":2.5,"list":[1,true,"x",{},[]],"n":-3,"whole":3.0}`)},
				{Script: "api", Cron: "@daily", Enabled: false, Payload: []byte(`"just a string"`)},
				{Script: "plain", Cron: "0 9 * * MON-FRI", Enabled: true},
			},
			Outbound:        &Outbound{Allow: []string{"api.example.com", "*.stripe.com"}},
			RequiredSecrets: []string{"API_TOKEN"},
			Limits:          &api.AppLimits{TimeoutMS: 100, MaxInflight: 3},
		},
		{App: "empty", Scripts: []Script{{Name: "a", File: "a.rhai", Source: "1"}}, Schedules: []Schedule{}, Outbound: &Outbound{Allow: []string{}}},
	} {
		t.Run(p.App, func(t *testing.T) {
			dir := t.TempDir()
			p.Dir = dir
			if err := Write(dir, p); err != nil {
				t.Fatal(err)
			}
			got, err := Load(dir)
			if err != nil {
				manifest, _ := os.ReadFile(filepath.Join(dir, ManifestName))
				t.Fatalf("%v\n%s", err, manifest)
			}
			want := *p
			want.Schedules = slices.Clone(p.Schedules)
			for i, s := range want.Schedules {
				want.Schedules[i].Payload = normalJSON(t, s.Payload)
			}
			if !reflect.DeepEqual(got, &want) {
				t.Errorf("got  %#v\nwant %#v", got, &want)
			}
		})
	}
}

// normalJSON is payload as Load gives it back: compact, keys sorted,
// whole floats as integers.
func normalJSON(t *testing.T, payload []byte) []byte {
	t.Helper()
	if payload == nil {
		return nil
	}
	s := string(payload)
	s = strings.ReplaceAll(s, `"whole":3.0`, `"whole":3`)
	return []byte(s)
}

// TestWriteManifest: the manifest holds only what differs from the
// defaults.
func TestWriteManifest(t *testing.T) {
	dir := t.TempDir()
	p := &Project{App: "a", Scripts: []Script{{Name: "x", Source: "1"}, {Name: "y", Source: "2", MaxAttempts: 2}}}
	if err := Write(dir, p); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	want := "app = \"a\"\n\n[scripts.y]\nattempts = 2\n"
	if string(got) != want {
		t.Errorf("manifest\n%s\nwant\n%s", got, want)
	}
	if src, _ := os.ReadFile(filepath.Join(dir, "x.rhai")); string(src) != "1" {
		t.Errorf("x.rhai = %q", src)
	}
}

// TestWriteNullPayload: TOML has no null; Write says so rather than
// writing a manifest that loads differently.
func TestWriteNullPayload(t *testing.T) {
	p := &Project{App: "a", Scripts: []Script{{Name: "x"}}, Schedules: []Schedule{{Script: "x", Cron: "@daily", Payload: []byte(`{"a":null}`)}}}
	err := Write(t.TempDir(), p)
	if err == nil || err.Error() != `project: schedule #1 of "x": the payload holds a null, which TOML cannot write` {
		t.Errorf("error %v", err)
	}
}
