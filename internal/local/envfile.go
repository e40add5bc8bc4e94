package local

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// envName is a secret's name, as the server accepts it.
var envName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,63}$`)

// ReadEnvFile reads the secrets of an env file: NAME=value lines, blank
// lines and # comments. A value may be quoted with " or '. A bad line is
// an error with the file's name and the line's number, never its value.
func ReadEnvFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	return ParseEnv(path, data)
}

// ParseEnv parses the content of an env file named name (see ReadEnvFile).
func ParseEnv(name string, data []byte) (map[string]string, error) {
	values := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		k = strings.TrimSpace(k)
		switch {
		case !ok:
			return nil, fmt.Errorf("%s:%d: want NAME=value", name, n)
		case !envName.MatchString(k):
			return nil, fmt.Errorf("%s:%d: %q is not a secret name (capital letters, digits and _, not first a digit)", name, n, k)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		values[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return values, nil
}
