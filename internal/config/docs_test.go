package config

import (
	"flag"
	"os"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/configuration.md")

// docs/configuration.md is generated from the declarations: a setting
// added, renamed or given a new default changes the docs too.
func TestDocsInStep(t *testing.T) {
	const path = "../../docs/configuration.md"
	want := Markdown()
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is not what the settings declare: run go test ./internal/config -update-docs", path)
	}
}
