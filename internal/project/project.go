// Package project reads a PiCloud project: a folder holding picloud.toml
// and the app's .rhai scripts. It validates the manifest (errors carry the
// manifest's line and column), turns a project into the API's
// ProjectDeploy, writes a folder back from an app (pic pull), and writes
// the starter of pic init.
package project

import "github.com/picloud/picloud/internal/api"

// ManifestName is the file that makes a folder a project.
const ManifestName = "picloud.toml"

// StateDir is the folder, inside a project, of pic dev's local state.
const StateDir = ".picloud"

// Project is a loaded, validated project folder.
type Project struct {
	Dir     string // the folder, absolute
	App     string // the app's slug
	Scripts []Script
	// Schedules, Outbound and Limits are nil when the manifest does not
	// declare them (then a deploy leaves the server's as they are).
	Schedules []Schedule
	Outbound  *Outbound
	Limits    *api.AppLimits
	// RequiredSecrets are names only; values never live in the manifest.
	RequiredSecrets []string
}

// Script is one script of a project.
type Script struct {
	Name        string // the script's name on the server
	File        string // path relative to Dir, slash-separated
	Source      string
	Visibility  string // "" (public) or api.VisibilityPrivate
	MaxAttempts int    // 0: the server's default
}

// Schedule is one [[schedules]] entry.
type Schedule struct {
	Script   string
	Cron     string
	Timezone string // "" is UTC
	Payload  []byte // JSON; nil when none
	Enabled  bool   // default true
}

// Outbound is the [outbound] section.
type Outbound struct {
	Allow []string
}
