package main

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxSubject is the longest subject allowed, in characters: it keeps
// `git log --oneline` on one line of a terminal with the hash in front.
const maxSubject = 72

// types are the Conventional Commit types PiCloud uses; the list is
// fixed, and docs/git-workflow.md says what each is for.
var types = []string{"feat", "fix", "perf", "refactor", "test", "docs", "build", "ci", "chore", "revert"}

// scopes are the parts of the tree a commit may name, each with what it
// covers. docs/git-workflow.md prints the same table; a test keeps the
// two in step.
var scopes = []struct{ name, covers string }{
	{"rhai", "the script engine, rhai/ and cmd/rhai"},
	{"store", "internal/store: the Store interface, sqlstore, migrations, backup, transfer"},
	{"manager", "internal/manager: the control plane's REST API handlers, RBAC, views"},
	{"orchestrator", "internal/orchestrator: data plane ingress, admission, dispatch, queue, compile cache"},
	{"executor", "internal/executor: one run of a compiled script under limits, host functions"},
	{"execrpc", "internal/execrpc: the wire between orchestrator and executor processes"},
	{"scheduler", "internal/scheduler: cron schedules and their firing"},
	{"events", "internal/events: change events, LISTEN/NOTIFY fan-out, live logs"},
	{"cli", "internal/cli and cmd/pic, cmd/picloud: the pic and picloud commands"},
	{"client", "internal/client: the Go client of the API"},
	{"api", "the REST API's contract across server and client, docs/api.md"},
	{"config", "internal/config: every binary's settings, flags, environment, file"},
	{"cluster", "internal/cluster and cmd/picloud-*: the cluster binaries"},
	{"node", "internal/node: the assembly of a node from its configuration (issue 17)"},
	{"ids", "internal/ids: invocation and job ids (issue 17)"},
	{"project", "internal/project: project folders, picloud.toml, deploy plans, pull, init"},
	{"local", "internal/local: pic dev, pic run and pic test, the local runtime"},
	{"auth", "internal/auth: passwords, sessions, API keys, sign-in throttling"},
	{"secrets", "internal/secrets: encryption of app secrets"},
	{"egress", "internal/egress: scripts' outbound HTTP and its allow-list"},
	{"netguard", "internal/netguard: connection and slow-client protection"},
	{"httpx", "internal/httpx: shared HTTP helpers"},
	{"metrics", "internal/metrics: Prometheus metrics"},
	{"clock", "internal/clock: time for code and tests"},
	{"ui", "internal/ui: serving the dashboard's build"},
	{"web", "web/: the dashboard's sources, tests and committed build"},
	{"e2e", "e2e/: end-to-end tests of one server"},
	{"e2ecluster", "e2ecluster/: end-to-end tests of the cluster behind Caddy"},
	{"bench", "bench/: the benchmark harnesses and their figures"},
	{"deploy", "deploy/: Docker, compose and Caddy files"},
	{"devtools", "internal/devtools and internal/testdeps: the test runner, this checker"},
	{"ci", ".ci/run and the Makefile"},
	{"docs", "README.md, CONTRIBUTING.md and docs/ when no package scope fits"},
	{"deps", "go.mod, go.sum, web/package*.json"},
}

// mergePrefixes are the subjects git writes for merges; they are
// allowed as they are.
var mergePrefixes = []string{"Merge branch '", "Merge remote-tracking branch '"}

// checkSubject returns why subject breaks the rules of
// docs/git-workflow.md, or nil when it follows them.
func checkSubject(subject string) error {
	for _, p := range mergePrefixes {
		if strings.HasPrefix(subject, p) {
			return nil
		}
	}
	if n := utf8.RuneCountInString(subject); n > maxSubject {
		return fmt.Errorf("%d characters, more than %d", n, maxSubject)
	}
	head, text, ok := strings.Cut(subject, ": ")
	if !ok {
		return fmt.Errorf(`no "type(scope): " in front`)
	}
	head = strings.TrimSuffix(head, "!")
	typ, scope, scoped := strings.Cut(head, "(")
	if !known(typ) {
		return fmt.Errorf("type %q is not one of %s", typ, strings.Join(types, " "))
	}
	if scoped {
		var closed bool
		scope, closed = strings.CutSuffix(scope, ")")
		if !closed || strings.ContainsAny(scope, "()") {
			return fmt.Errorf("the scope is not written (scope)")
		}
		if !knownScope(scope) {
			return fmt.Errorf("scope %q is not in the list of docs/git-workflow.md", scope)
		}
	}
	switch {
	case strings.TrimSpace(text) == "":
		return fmt.Errorf("no text after the type")
	case text != strings.TrimLeft(text, " \t"):
		return fmt.Errorf(`more than one space after ":"`)
	case strings.HasSuffix(text, "."):
		return fmt.Errorf("ends with a period")
	}
	return nil
}

func known(typ string) bool {
	for _, t := range types {
		if t == typ {
			return true
		}
	}
	return false
}

func knownScope(scope string) bool {
	for _, s := range scopes {
		if s.name == scope {
			return true
		}
	}
	return false
}
