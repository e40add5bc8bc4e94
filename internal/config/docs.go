package config

import (
	"fmt"
	"strings"
)

// Markdown is docs/configuration.md: the precedence rule and every
// binary's settings table, generated from the declarations the binaries
// parse with (go test ./internal/config -update-docs rewrites the file).
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Configuration\n\n")
	b.WriteString("<!-- Generated from internal/config by `go test ./internal/config -update-docs`; do not edit. -->\n\n")
	b.WriteString("Every PiCloud server reads its settings the same way. Each setting has one name: it is the flag\n")
	b.WriteString("(`--name`), the environment variable (`PICLOUD_NAME`, upper case, `-` as `_`) and the key of the config\n")
	b.WriteString("file, in every binary that reads it.\n\n")
	b.WriteString(Precedence + "\n\n")
	b.WriteString("A config file holds `name = value` lines: strings, integers, and lists of strings where a setting\n")
	b.WriteString("takes a comma-separated list. A key that no PiCloud binary knows is an error (with its line); a key\n")
	b.WriteString("of another binary is ignored, so one file can serve every process of a cluster:\n\n")
	b.WriteString("```toml\n# /etc/picloud/picloud.toml\nlisten = \"0.0.0.0:8080\"\ndb = \"postgres://picloud@db/picloud\"\nmax-body = \"4MiB\"\ntrusted-proxies = [\"10.0.0.0/8\"]\nworkers = 8          # read by picloud-orchestrator only\n```\n\n")
	b.WriteString("Settings without a flag (secrets: a command line is visible to every user of the machine) come from\n")
	b.WriteString("the environment or the file only. Each binary prints its own table with `--help`.\n")
	for _, bin := range Binaries {
		fmt.Fprintf(&b, "\n## %s\n\n", bin.Name)
		b.WriteString("| Flag | Environment | Default | Meaning |\n|---|---|---|---|\n")
		for _, r := range bin.Rows() {
			flag := "`" + r.Flag + "`"
			if r.Flag == "" {
				flag = "(no flag; key `" + r.Key + "`)"
			}
			def := ""
			if r.Default != "" {
				def = "`" + r.Default + "`"
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", flag, r.Env, def, strings.ReplaceAll(r.Help, "|", "\\|"))
		}
	}
	return b.String()
}
