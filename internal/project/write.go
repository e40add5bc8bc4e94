package project

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Write writes p into dir as a project folder: every script's file and a
// picloud.toml that Load reads back to p. It replaces files of the same
// names and leaves other files alone.
func Write(dir string, p *Project) error {
	manifest, err := p.manifest()
	if err != nil {
		return err
	}
	for _, s := range p.Scripts {
		name := filepath.Join(dir, filepath.FromSlash(s.fileName()))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return fmt.Errorf("project: %w", err)
		}
		if err := os.WriteFile(name, []byte(s.Source), 0o644); err != nil {
			return fmt.Errorf("project: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestName), manifest, 0o644); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	return nil
}

// fileName is the script's file, NAME.rhai when it has none.
func (s Script) fileName() string {
	if s.File == "" {
		return s.Name + ScriptExt
	}
	return s.File
}

// manifest writes p's picloud.toml: only what differs from the defaults.
func (p *Project) manifest() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "app = %s\n", tomlString(p.App))
	if p.Schedules != nil && len(p.Schedules) == 0 {
		b.WriteString("schedules = []\n")
	}
	for _, s := range p.Scripts {
		p.writeScript(&b, s)
	}
	for i, s := range p.Schedules {
		if err := writeSchedule(&b, s); err != nil {
			return nil, fmt.Errorf("project: schedule #%d of %q: %w", i+1, s.Script, err)
		}
	}
	if p.Outbound != nil {
		fmt.Fprintf(&b, "\n[outbound]\nallow = %s\n", tomlStrings(p.Outbound.Allow))
	}
	if p.RequiredSecrets != nil {
		fmt.Fprintf(&b, "\n[secrets]\nrequired = %s\n", tomlStrings(p.RequiredSecrets))
	}
	if l := p.Limits; l != nil {
		b.WriteString("\n[limits]\n")
		for _, f := range []struct {
			key string
			v   int64
		}{
			{"timeout_ms", l.TimeoutMS}, {"max_operations", l.MaxOperations}, {"max_body_bytes", l.MaxBodyBytes},
			{"max_memory_mb", l.MaxMemoryMB}, {"kv_max_value_bytes", l.KVMaxValueBytes}, {"kv_max_bytes", l.KVMaxBytes},
			{"kv_max_keys", l.KVMaxKeys}, {"max_running_jobs", l.MaxRunningJobs}, {"max_queued_bytes", l.MaxQueuedBytes},
			{"max_recorded_bytes", l.MaxRecordedBytes}, {"max_inflight", l.MaxInflight},
		} {
			if f.v != 0 {
				fmt.Fprintf(&b, "%s = %d\n", f.key, f.v)
			}
		}
	}
	return b.Bytes(), nil
}

// writeScript writes a [scripts.NAME] section when the script differs
// from the default: another file, attempts, private.
func (p *Project) writeScript(b *bytes.Buffer, s Script) {
	file := s.fileName()
	if file == s.Name+ScriptExt && s.MaxAttempts == 0 && s.Visibility == "" {
		return
	}
	fmt.Fprintf(b, "\n[scripts.%s]\n", tomlKey(s.Name))
	if file != s.Name+ScriptExt {
		fmt.Fprintf(b, "file = %s\n", tomlString(file))
	}
	if s.MaxAttempts != 0 {
		fmt.Fprintf(b, "attempts = %d\n", s.MaxAttempts)
	}
	if s.Visibility != "" {
		fmt.Fprintf(b, "visibility = %s\n", tomlString(s.Visibility))
	}
}

func writeSchedule(b *bytes.Buffer, s Schedule) error {
	fmt.Fprintf(b, "\n[[schedules]]\nscript = %s\ncron = %s\n", tomlString(s.Script), tomlString(s.Cron))
	if s.Timezone != "" {
		fmt.Fprintf(b, "tz = %s\n", tomlString(s.Timezone))
	}
	if len(s.Payload) > 0 {
		d := json.NewDecoder(bytes.NewReader(s.Payload))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return fmt.Errorf("invalid payload: %w", err)
		}
		if v != nil {
			t, err := tomlValue(v)
			if err != nil {
				return err
			}
			fmt.Fprintf(b, "payload = %s\n", t)
		}
	}
	if !s.Enabled {
		b.WriteString("enabled = false\n")
	}
	return nil
}

// tomlValue writes a JSON value (decoded with UseNumber) as an inline
// TOML value.
func tomlValue(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", fmt.Errorf("the payload holds a null, which TOML cannot write")
	case bool:
		return strconv.FormatBool(v), nil
	case string:
		return tomlString(v), nil
	case json.Number:
		return tomlNumber(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			s, err := tomlValue(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case map[string]any:
		parts := make([]string, 0, len(v))
		for _, k := range sortedKeys(v) {
			s, err := tomlValue(v[k])
			if err != nil {
				return "", err
			}
			parts = append(parts, tomlKey(k)+" = "+s)
		}
		if len(parts) == 0 {
			return "{}", nil
		}
		return "{ " + strings.Join(parts, ", ") + " }", nil
	default:
		return "", fmt.Errorf("unexpected JSON value %T", v)
	}
}

// tomlNumber writes a JSON number as a TOML integer or float.
func tomlNumber(n json.Number) (string, error) {
	if i, err := n.Int64(); err == nil {
		return strconv.FormatInt(i, 10), nil
	}
	f, err := n.Float64()
	if err != nil {
		return "", fmt.Errorf("the number %s does not fit TOML", n)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") { // n: NaN and Inf cannot come from JSON
		s += ".0"
	}
	return s, nil
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func tomlKey(k string) string {
	if bareKey.MatchString(k) {
		return k
	}
	return tomlString(k)
}

func tomlStrings(list []string) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = tomlString(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// tomlString writes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
