package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestCheckSubjectAccepts(t *testing.T) {
	for _, s := range []string{
		"feat(store): sessions and API keys in sqlstore",
		"fix(rhai): pad counts every copy of its fill",
		"docs: backup and restore on SQLite and PostgreSQL",
		"refactor(config)!: one precedence rule for flags, environment and file",
		"feat!: drop the v0 API",
		"test(e2ecluster): a migrated install answers the same commands",
		"chore(deps): go 1.26",
		"revert(orchestrator): the heavy-app pacing",
		"perf(web): the logs page renders 10 000 rows without stalling…",
		// Exactly 72 characters, counted in characters, not bytes.
		"docs(rhai): " + strings.Repeat("é", 60),
		"Merge branch 'h/port1'",
		"Merge branch 'main' into h/switch",
		"Merge remote-tracking branch 'origin/main' into h/x",
	} {
		if err := checkSubject(s); err != nil {
			t.Errorf("checkSubject(%q) = %v, want nil", s, err)
		}
	}
}

func TestCheckSubjectRejects(t *testing.T) {
	for _, tc := range []struct{ subject, want string }{
		{"docs(rhai): " + strings.Repeat("x", 61), "73 characters, more than 72"},
		{"e1f4b8d test: the heavy-run test ends its loop at the timeout on any machine", "more than 72"},
		{"add a thing", `no "type(scope): " in front`},
		{"feat(store):missing space", `no "type(scope): " in front`},
		{"feature(store): sessions", `type "feature" is not one of`},
		{"style(manager): gofmt", `type "style" is not one of`},
		{"Feat(store): capital type", `type "Feat" is not one of`},
		{"fix(engine): old name of the rhai scope", `scope "engine" is not in the list`},
		{"fix(store,manager): two scopes", `scope "store,manager" is not in the list`},
		{"fix(): empty scope", `scope "" is not in the list`},
		{"fix(store: unclosed", "the scope is not written (scope)"},
		{"fix(store)(cli): two parentheses", "the scope is not written (scope)"},
		{"fix(store): ", "no text after the type"},
		{"fix(store):  two spaces", `more than one space after ":"`},
		{"fix(store): the lock reads pg_tables.", "ends with a period"},
		{"Merge pull request #3 from x/y", `no "type(scope): " in front`},
		{"fixup! fix(store): the lock", `type "fixup! fix" is not one of`},
		{"", `no "type(scope): " in front`},
	} {
		err := checkSubject(tc.subject)
		if err == nil {
			t.Errorf("checkSubject(%q) = nil, want an error containing %q", tc.subject, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkSubject(%q) = %q, want it to contain %q", tc.subject, err, tc.want)
		}
	}
}

// The scope table of docs/git-workflow.md and the checker's list must
// name the same scopes, or the doc promises what CI refuses.
func TestScopesMatchWorkflowDoc(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/git-workflow.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9]+)` +\\|")
	var inDoc []string
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		inDoc = append(inDoc, m[1])
	}
	var inCode []string
	for _, s := range scopes {
		inCode = append(inCode, s.name)
	}
	for _, typ := range types {
		if !strings.Contains(string(doc), "| `"+typ+"` ") {
			t.Errorf("type %q is missing from the types table of docs/git-workflow.md", typ)
		}
	}
	// The doc's table rows are the types followed by the scopes.
	want := append(append([]string{}, types...), inCode...)
	if strings.Join(inDoc, " ") != strings.Join(want, " ") {
		t.Errorf("docs/git-workflow.md's tables name\n%v\nthe checker knows\n%v", inDoc, want)
	}
}
