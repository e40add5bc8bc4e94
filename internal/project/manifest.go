package project

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// manifest is picloud.toml as written. Pointers tell an absent key from
// a zero one.
type manifest struct {
	App       string                 `toml:"app"`
	Scripts   map[string]scriptEntry `toml:"scripts"`
	Schedules []scheduleEntry        `toml:"schedules"`
	Outbound  *outboundEntry         `toml:"outbound"`
	Secrets   *secretsEntry          `toml:"secrets"`
	Limits    *limitsEntry           `toml:"limits"`
}

type scriptEntry struct {
	File       string `toml:"file"`
	Attempts   *int   `toml:"attempts"`
	Visibility string `toml:"visibility"`
}

type scheduleEntry struct {
	Script  string `toml:"script"`
	Cron    string `toml:"cron"`
	TZ      string `toml:"tz"`
	Payload any    `toml:"payload"`
	Enabled *bool  `toml:"enabled"`
}

type outboundEntry struct {
	Allow []string `toml:"allow"`
}

type secretsEntry struct {
	Required []string `toml:"required"`
}

// limitsEntry is [limits]: api.AppLimits, with the unit in every name
// (milliseconds, bytes, megabytes, counts). Zero keeps the server's
// default.
type limitsEntry struct {
	TimeoutMS        int64 `toml:"timeout_ms"`
	MaxOperations    int64 `toml:"max_operations"`
	MaxBodyBytes     int64 `toml:"max_body_bytes"`
	MaxMemoryMB      int64 `toml:"max_memory_mb"`
	KVMaxValueBytes  int64 `toml:"kv_max_value_bytes"`
	KVMaxBytes       int64 `toml:"kv_max_bytes"`
	KVMaxKeys        int64 `toml:"kv_max_keys"`
	MaxRunningJobs   int64 `toml:"max_running_jobs"`
	MaxQueuedBytes   int64 `toml:"max_queued_bytes"`
	MaxRecordedBytes int64 `toml:"max_recorded_bytes"`
	MaxInflight      int64 `toml:"max_inflight"`
}

// sectionKeys are the keys each table accepts, for the hint of an
// unknown key.
var sectionKeys = map[string]string{
	"":          "app, scripts, schedules, outbound, secrets, limits",
	"scripts.*": "file, attempts, visibility",
	"schedules": "script, cron, tz, payload, enabled",
	"outbound":  "allow",
	"secrets":   "required",
	"limits": "timeout_ms, max_operations, max_body_bytes, max_memory_mb, kv_max_value_bytes, " +
		"kv_max_bytes, kv_max_keys, max_running_jobs, max_queued_bytes, max_recorded_bytes, max_inflight",
}

// decode reads the manifest strictly: a syntax error, a value of the
// wrong type or an unknown key is a ManifestError at its place.
func decode(doc []byte) (*manifest, error) {
	var m manifest
	d := toml.NewDecoder(bytes.NewReader(doc))
	d.DisallowUnknownFields()
	err := d.Decode(&m)
	var strict *toml.StrictMissingError
	var de *toml.DecodeError
	switch {
	case err == nil:
		return &m, nil
	case errors.As(err, &strict) && len(strict.Errors) > 0:
		return nil, unknownKey(&strict.Errors[0])
	case errors.As(err, &de):
		line, col := de.Position()
		return nil, &ManifestError{File: ManifestName, Line: line, Col: col, Msg: decodeMessage(de)}
	default:
		return nil, &ManifestError{File: ManifestName, Msg: err.Error()}
	}
}

// unknownKey describes a key the manifest does not define.
func unknownKey(e *toml.DecodeError) *ManifestError {
	line, col := e.Position()
	key := []string(e.Key())
	name := key[len(key)-1]
	section := strings.Join(key[:len(key)-1], ".")
	pattern := section
	if len(key) == 3 && key[0] == "scripts" {
		pattern = "scripts.*"
	}
	msg := fmt.Sprintf("unknown key %q", name)
	if section != "" {
		msg += fmt.Sprintf(" in [%s]", section)
	}
	if keys, ok := sectionKeys[pattern]; ok {
		msg += "; the keys are " + keys
	}
	return &ManifestError{File: ManifestName, Line: line, Col: col, Msg: msg}
}

var typeMismatch = regexp.MustCompile(`^toml: cannot decode TOML (\w+) into .* of type (\S+)$`)

// decodeMessage rewrites the parser's message in the manifest's terms:
// a wrong type names the key and the TOML types, not Go's.
func decodeMessage(e *toml.DecodeError) string {
	msg := e.Error()
	if m := typeMismatch.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s must be %s, not %s", strings.Join(e.Key(), "."), tomlType(m[2]), article(m[1]))
	}
	return strings.TrimPrefix(msg, "toml: ")
}

// tomlType names a Go field type of manifest as its TOML type.
func tomlType(goType string) string {
	goType = strings.TrimPrefix(goType, "*")
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean (true or false)"
	case strings.HasPrefix(goType, "int"):
		return "an integer"
	case strings.HasPrefix(goType, "[]string"):
		return "an array of strings"
	case strings.HasPrefix(goType, "[]"):
		return "an array of tables"
	default:
		return "a table"
	}
}

func article(kind string) string {
	if strings.ContainsRune("aeiou", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
