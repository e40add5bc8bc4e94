package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustKeyring(t *testing.T, primary []byte, older ...[]byte) *Keyring {
	t.Helper()
	kr, err := NewKeyring(primary, older...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestSealOpen(t *testing.T) {
	kr := mustKeyring(t, testKey(1))
	value := []byte("s3cr3t-value")
	a, err := kr.Seal(7, "TOKEN", value)
	if err != nil {
		t.Fatal(err)
	}
	b, err := kr.Seal(7, "TOKEN", value)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
	if bytes.Contains(a, value) {
		t.Error("the sealed bytes contain the value")
	}
	if len(a) != headerSize+len(value)+16 {
		t.Errorf("sealed length %d, want %d", len(a), headerSize+len(value)+16)
	}
	for _, s := range [][]byte{a, b} {
		got, err := kr.Open(7, "TOKEN", s)
		if err != nil || string(got) != string(value) {
			t.Fatalf("Open = %q, %v", got, err)
		}
	}
	empty, err := kr.Seal(7, "EMPTY", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := kr.Open(7, "EMPTY", empty); err != nil || len(got) != 0 {
		t.Fatalf("Open of an empty value = %q, %v", got, err)
	}
}

// A ciphertext is bound to its app and name: moved, it does not open.
func TestOpenBoundToAppAndName(t *testing.T) {
	kr := mustKeyring(t, testKey(1))
	s, err := kr.Seal(7, "TOKEN", []byte("value"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		app  int64
		name string
	}{{8, "TOKEN"}, {7, "OTHER"}, {7, "TOKEN2"}, {7 << 32, "TOKEN"}} {
		if _, err := kr.Open(c.app, c.name, s); !errors.Is(err, ErrTampered) {
			t.Errorf("Open as %d/%s: %v, want ErrTampered", c.app, c.name, err)
		}
	}
}

func TestOpenTampered(t *testing.T) {
	kr := mustKeyring(t, testKey(1))
	s, err := kr.Seal(1, "TOKEN", []byte("value"))
	if err != nil {
		t.Fatal(err)
	}
	// Every bit after the key id is covered: the nonce, the ciphertext
	// and the tag.
	for i := 1 + idSize; i < len(s); i++ {
		bad := bytes.Clone(s)
		bad[i] ^= 0x01
		if _, err := kr.Open(1, "TOKEN", bad); !errors.Is(err, ErrTampered) {
			t.Fatalf("byte %d flipped: %v, want ErrTampered", i, err)
		}
	}
	if _, err := kr.Open(1, "TOKEN", s[:len(s)-1]); !errors.Is(err, ErrTampered) {
		t.Errorf("truncated: %v, want ErrTampered", err)
	}
	for _, bad := range [][]byte{nil, {format}, s[:headerSize-1], append([]byte{2}, s[1:]...)} {
		if _, err := kr.Open(1, "TOKEN", bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Open(%x): %v, want ErrMalformed", bad, err)
		}
	}
}

func TestOpenWrongKey(t *testing.T) {
	old := mustKeyring(t, testKey(1))
	s, err := old.Seal(1, "TOKEN", []byte("value"))
	if err != nil {
		t.Fatal(err)
	}
	fresh := mustKeyring(t, testKey(2))
	_, err = fresh.Open(1, "TOKEN", s)
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open with another key: %v, want ErrWrongKey", err)
	}
	// The message names both key ids, never a key.
	msg := err.Error()
	if !strings.Contains(msg, old.ID()) || !strings.Contains(msg, fresh.ID()) {
		t.Errorf("message %q does not name the key ids %s and %s", msg, old.ID(), fresh.ID())
	}
	for _, k := range [][]byte{testKey(1), testKey(2)} {
		if strings.Contains(msg, hex.EncodeToString(k)) || strings.Contains(msg, base64.StdEncoding.EncodeToString(k)) {
			t.Errorf("message %q contains a key", msg)
		}
	}
	if old.ID() == fresh.ID() || len(old.ID()) != 2*idSize {
		t.Errorf("key ids %q and %q", old.ID(), fresh.ID())
	}

	// A keyring given the old key as an older one opens it, and seals
	// with the new one.
	rotated := mustKeyring(t, testKey(2), testKey(1))
	if got, err := rotated.Open(1, "TOKEN", s); err != nil || string(got) != "value" {
		t.Fatalf("Open with the old key in the ring: %q, %v", got, err)
	}
	s2, err := rotated.Seal(1, "TOKEN", []byte("value"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Open(1, "TOKEN", s2); !errors.Is(err, ErrWrongKey) {
		t.Errorf("a rotated ring seals with the old key: %v", err)
	}
}

func TestNewKeyringSize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := NewKeyring(make([]byte, n)); err == nil {
			t.Errorf("NewKeyring with %d bytes: no error", n)
		}
	}
	if _, err := NewKeyring(testKey(1), make([]byte, 16)); err == nil {
		t.Error("NewKeyring with a short older key: no error")
	}
}

func TestParseKey(t *testing.T) {
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = byte(i*7 + 250) // includes bytes that need + and / in base64
	}
	for _, text := range []string{
		base64.StdEncoding.EncodeToString(k),
		base64.RawStdEncoding.EncodeToString(k),
		base64.URLEncoding.EncodeToString(k),
		base64.RawURLEncoding.EncodeToString(k),
		hex.EncodeToString(k),
		strings.ToUpper(hex.EncodeToString(k)),
		"  " + base64.StdEncoding.EncodeToString(k) + "\n",
	} {
		got, err := ParseKey(text)
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseKey(%q) = %x, %v", text, got, err)
		}
	}
	secret := "correct horse battery staple"
	for _, c := range []struct{ text, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{base64.StdEncoding.EncodeToString(k[:16]), "base64 of 16 bytes, not 32"},
		{base64.RawURLEncoding.EncodeToString(append(k, k...)), "base64 of 64 bytes, not 32"},
		{hex.EncodeToString(k[:31]), "hex of 31 bytes, not 32"},
		{hex.EncodeToString(k) + "00", "hex of 33 bytes, not 32"},
		{"!!" + hex.EncodeToString(k)[2:], "neither base64 nor hex"}, // 64 characters, not hex
		{"@", "neither base64 nor hex"},
		{secret, "neither base64 nor hex"},
	} {
		_, err := ParseKey(c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "openssl rand -base64 32") {
			t.Errorf("ParseKey(%q): %v, want an error with %q and how to make a key", c.text, err, c.want)
		}
		if err != nil && c.text != "" && strings.Contains(err.Error(), strings.TrimSpace(c.text)) && strings.TrimSpace(c.text) != "" {
			t.Errorf("ParseKey(%q): the error repeats the text: %v", c.text, err)
		}
	}
}

func TestLoadFromEnv(t *testing.T) {
	k := testKey(9)
	kr, src, err := Load(base64.StdEncoding.EncodeToString(k), filepath.Join(t.TempDir(), "never"), true)
	if err != nil || !src.Env || src.String() != EnvKey {
		t.Fatalf("Load from env: %v, %+v", err, src)
	}
	if kr.ID() != mustKeyring(t, k).ID() {
		t.Error("the keyring does not hold the env key")
	}
	_, _, err = Load("not-a-key", "", true)
	if err == nil || !strings.HasPrefix(err.Error(), EnvKey+": ") || strings.Contains(err.Error(), "not-a-key") {
		t.Errorf("Load with a bad env key: %v", err)
	}
	if _, _, err := Load("", "", false); err == nil {
		t.Error("Load with no key at all: no error")
	}
}

func TestLoadGeneratesKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // not there yet
	path := filepath.Join(dir, DefaultKeyFile)
	kr, src, err := Load("", path, true)
	if err != nil || !src.Created || src.File != path {
		t.Fatalf("first Load: %v, %+v", err, src)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %04o, want 0700", di.Mode().Perm())
	}
	text, _ := os.ReadFile(path)
	raw, err := ParseKey(string(text))
	if err != nil || mustKeyring(t, raw).ID() != kr.ID() {
		t.Fatalf("the file %q does not hold the keyring's key: %v", text, err)
	}
	// The next start reads the same key.
	again, src, err := Load("", path, true)
	if err != nil || src.Created || again.ID() != kr.ID() {
		t.Fatalf("second Load: %v, %+v, id %s want %s", err, src, again.ID(), kr.ID())
	}
	sealed, _ := kr.Seal(1, "A", []byte("v"))
	if got, err := again.Open(1, "A", sealed); err != nil || string(got) != "v" {
		t.Errorf("a value sealed before the restart: %q, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want the key file only", len(entries))
	}
}

func TestLoadConcurrentStarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultKeyFile)
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			kr, _, err := Load("", path, true)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = kr.ID()
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent starts got different keys: %v", ids)
		}
	}
}

func TestLoadRefusesBadKeyFiles(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(testKey(3)) + "\n"
	for _, c := range []struct {
		name, content string
		mode          os.FileMode
		want          []string
	}{
		{"group-readable", good, 0o640, []string{"mode 0640", "chmod 600"}},
		{"world-readable", good, 0o644, []string{"mode 0644", "chmod 600"}},
		{"wrong size", base64.StdEncoding.EncodeToString(testKey(3)[:16]), 0o600, []string{"does not hold a key", "base64 of 16 bytes, not 32"}},
		{"garbage", "hello there\n", 0o600, []string{"does not hold a key"}},
		{"empty", "", 0o600, []string{"is empty", "delete it"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), DefaultKeyFile)
			if err := os.WriteFile(path, []byte(c.content), c.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, c.mode); err != nil { // past the umask
				t.Fatal(err)
			}
			_, _, err := Load("", path, true)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(c.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if after, _ := os.ReadFile(path); string(after) != c.content {
				t.Error("the refused file was changed")
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		path := t.TempDir()
		if _, _, err := Load("", path, true); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Load of a directory: %v", err)
		}
	})
	t.Run("missing without create", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope.key")
		_, _, err := Load("", path, false)
		if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("Load of a missing file without create: %v", err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Error("the file was created")
		}
	})
}
