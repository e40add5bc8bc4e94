package e2ecluster

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The Docker deployment, read as text (no Docker here): secrets cannot
// start off, the image is built by one service only, and the image keeps
// its data in a volume.
func TestDockerDeployment(t *testing.T) {
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "deploy", "docker", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	compose := read("compose.yaml")
	if !regexp.MustCompile(`(?m)^\s+PICLOUD_SECRET_KEY: \$\{PICLOUD_SECRET_KEY:\?[^}]+\}$`).MatchString(compose) {
		t.Error("compose.yaml does not require PICLOUD_SECRET_KEY (${PICLOUD_SECRET_KEY:?…})")
	}
	if n := len(regexp.MustCompile(`(?m)^\s+build:`).FindAllString(compose, -1)); n != 1 {
		t.Errorf("compose.yaml has %d build sections; want 1, so that the image is built once", n)
	}
	if !strings.Contains(compose, "pull_policy: never") {
		t.Error("the services without a build section may pull the local image from a registry")
	}
	dockerfile := read("Dockerfile")
	for _, want := range []string{"\nVOLUME /data\n", "PICLOUD_DATA=/data"} {
		if !strings.Contains(dockerfile, want) {
			t.Errorf("the Dockerfile lacks %q", strings.TrimSpace(want))
		}
	}
}
