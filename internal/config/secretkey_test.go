package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClusterSecretKey(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32))
	file := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(file, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	open := func(args []string, env map[string]string) (string, error) {
		t.Helper()
		c, err := LoadManager(append([]string{"--db", "postgres://x"}, args...), func(name string) string { return env[name] }, io.Discard)
		if err != nil {
			return "", err
		}
		var logs bytes.Buffer
		kr, err := c.SecretKey.OpenClusterKey(slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			return "", err
		}
		if kr == nil {
			if !strings.Contains(logs.String(), "no secret key") {
				t.Errorf("no warning without a key: %s", logs.String())
			}
			return "none", nil
		}
		if strings.Contains(logs.String(), key) {
			t.Errorf("the log holds the key: %s", logs.String())
		}
		return kr.ID(), nil
	}
	none, err := open(nil, nil)
	if err != nil || none != "none" {
		t.Fatalf("no key: %q, %v", none, err)
	}
	fromFile, err := open([]string{"--secret-key-file", file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fromEnv, err := open(nil, map[string]string{"PICLOUD_SECRET_KEY": key})
	if err != nil || fromEnv != fromFile {
		t.Fatalf("the same key from the environment: %q, %v; from the file %q", fromEnv, err, fromFile)
	}
	if _, err := open(nil, map[string]string{"PICLOUD_SECRET_KEY_FILE": file}); err != nil {
		t.Fatal(err)
	}
	// A cluster binary never generates a key: every process must share it.
	missing := filepath.Join(t.TempDir(), "missing.key")
	_, err = open([]string{"--secret-key-file", missing}, nil)
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing key file: %v", err)
	}
	if _, statErr := os.Stat(missing); statErr == nil {
		t.Error("a cluster binary generated a key file")
	}
	_, err = open(nil, map[string]string{"PICLOUD_SECRET_KEY": "nope"})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "PICLOUD_SECRET_KEY") || strings.Contains(err.Error(), "nope") {
		t.Errorf("a bad key: %v", err)
	}
	if _, err := open([]string{"--secret-key", key}, nil); err == nil {
		t.Error("--secret-key accepted on the command line")
	}
}
