package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// credentials is what `pic login` saves: the server, the token and the
// user it acts as. The file is $XDG_CONFIG_HOME/picloud/credentials.json
// (~/.config/picloud/credentials.json when XDG_CONFIG_HOME is unset),
// mode 0600 in a directory of mode 0700.
type credentials struct {
	Server   string `json:"server"`
	Token    string `json:"token"`
	Username string `json:"username"`
}

// credentialsPath returns the credentials file's path.
func (p *pic) credentialsPath() (string, error) {
	dir := p.getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		// The XDG spec: a relative path is invalid and ignored.
		home := p.getenv("HOME")
		if home == "" {
			return "", errors.New("cannot find the credentials file: neither XDG_CONFIG_HOME nor HOME is set")
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "picloud", "credentials.json"), nil
}

// loadCredentials reads the credentials file; ok is false when there is
// none.
func (p *pic) loadCredentials() (c credentials, ok bool, err error) {
	path, err := p.credentialsPath()
	if err != nil {
		return c, false, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("reading the credentials file: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, false, fmt.Errorf("the credentials file %s is not valid JSON (%v); run 'pic login' again", path, err)
	}
	return c, true, nil
}

// saveCredentials writes the credentials file atomically with mode 0600,
// creating its directory with mode 0700.
func (p *pic) saveCredentials(c credentials) (string, error) {
	path, err := p.credentialsPath()
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", fmt.Errorf("cli: unable to encode the credentials: %w", err)
	}
	// os.CreateTemp makes the file with mode 0600; renaming it over the
	// old file replaces that file's mode too.
	f, err := os.CreateTemp(dir, ".credentials-*.json")
	if err != nil {
		return "", fmt.Errorf("writing the credentials file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return "", fmt.Errorf("writing the credentials file: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return "", fmt.Errorf("writing the credentials file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("writing the credentials file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("writing the credentials file: %w", err)
	}
	return path, nil
}

// removeCredentials deletes the credentials file; removed is false when
// there was none.
func (p *pic) removeCredentials() (removed bool, err error) {
	path, err := p.credentialsPath()
	if err != nil {
		return false, err
	}
	err = os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("removing the credentials file: %w", err)
	}
	return true, nil
}

// normalizeServer checks a server URL and writes it canonically: a scheme
// (http:// when none is given) and no trailing slash.
func normalizeServer(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%q: the scheme must be http or https", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%q has no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q: a server URL has no query, fragment or user", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// sameServer reports whether two server URLs name the same server, so
// that a saved token is only sent where it was issued.
func sameServer(a, b string) bool {
	na, errA := normalizeServer(a)
	nb, errB := normalizeServer(b)
	return errA == nil && errB == nil && strings.EqualFold(na, nb)
}
