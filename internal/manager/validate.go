package manager

import (
	"regexp"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/auth"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// Names that become part of URLs and of the data plane's paths.
var (
	// An app slug is a DNS label: lower-case letters, digits and inner
	// hyphens, 1–63 characters.
	slugPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	// A script name: letters, digits, '_' and '-', not starting with '-',
	// 1–64 characters.
	scriptNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_-]{0,63}$`)
	// A user name: lower-case letters, digits, '.', '_', '-' and '@',
	// starting with a letter or digit, 1–64 characters.
	usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)
)

// Lengths of free text.
const (
	maxAppNameLen     = 100
	maxDescriptionLen = 1000
	maxAPIKeyNameLen  = 64
)

// MinPasswordLen is the shortest password accepted for an account.
const MinPasswordLen = 8

func validSlug(s string) error {
	if !slugPattern.MatchString(s) {
		return httpx.Invalid("invalid app slug %q: use 1-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen", s)
	}
	return nil
}

func validScriptName(s string) error {
	if !scriptNamePattern.MatchString(s) {
		return httpx.Invalid("invalid script name %q: use 1-64 letters, digits, '_' and '-', not starting with '-'", s)
	}
	return nil
}

func validUsername(s string) error {
	if !usernamePattern.MatchString(s) {
		return httpx.Invalid("invalid username %q: use 1-64 lower-case letters, digits, '.', '_', '-' and '@', starting with a letter or digit", s)
	}
	return nil
}

func validPassword(s string) error {
	switch n := utf8.RuneCountInString(s); {
	case n < MinPasswordLen:
		return httpx.Invalid("the password must be at least %d characters long", MinPasswordLen)
	case len(s) > auth.MaxPasswordLen:
		return httpx.Invalid("the password must be at most %d bytes long", auth.MaxPasswordLen)
	}
	return nil
}

func validGlobalRole(s string) error {
	if s != store.RoleAdmin && s != store.RoleMember {
		return httpx.Invalid("invalid role %q: use admin or member", s)
	}
	return nil
}

func validAppRole(s string) error {
	if s != store.AppRoleViewer && s != store.AppRoleEditor {
		return httpx.Invalid("invalid role %q: use viewer or editor", s)
	}
	return nil
}

// validText checks a free-text field's length in characters.
func validText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return httpx.Invalid("%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > max {
		return httpx.Invalid("%s is longer than %d characters", field, max)
	}
	return nil
}
