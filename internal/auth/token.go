package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Token prefixes tell a session token from an API key at a glance, in a
// credentials file or a leaked log line alike, and let the server look a
// token up in the right table.
const (
	SessionPrefix = "pcs_"
	APIKeyPrefix  = "pck_"
)

// TokenBytes is the number of random bytes in a token.
const TokenBytes = 32

// DisplayPrefixLen is the length of the token prefix kept in the clear
// for an API key (the "pck_" marker and 8 characters), so that a user can
// recognise a key in a list without the server storing the token.
const DisplayPrefixLen = len(APIKeyPrefix) + 8

// TokenKind is what a bearer token stands for.
type TokenKind int

// Kinds of token.
const (
	TokenUnknown TokenKind = iota
	TokenSession
	TokenAPIKey
)

// NewSessionToken returns a fresh session token: "pcs_" and 32 random
// bytes in unpadded base64url.
func NewSessionToken() (string, error) { return newToken(SessionPrefix) }

// NewAPIKeyToken returns a fresh API key: "pck_" and 32 random bytes in
// unpadded base64url.
func NewAPIKeyToken() (string, error) { return newToken(APIKeyPrefix) }

func newToken(prefix string) (string, error) {
	b := make([]byte, TokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: unable to read random bytes: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// tokenLen is the length of every token NewSessionToken and
// NewAPIKeyToken make, prefix included.
var tokenLen = len(SessionPrefix) + base64.RawURLEncoding.EncodedLen(TokenBytes)

// KindOf tells what token stands for by its prefix and shape. Anything
// that cannot be one of our tokens is TokenUnknown, so that the server
// never looks it up.
func KindOf(token string) TokenKind {
	if len(token) != tokenLen {
		return TokenUnknown
	}
	if _, err := base64.RawURLEncoding.DecodeString(token[len(SessionPrefix):]); err != nil {
		return TokenUnknown
	}
	switch {
	case strings.HasPrefix(token, SessionPrefix):
		return TokenSession
	case strings.HasPrefix(token, APIKeyPrefix):
		return TokenAPIKey
	}
	return TokenUnknown
}

// HashToken returns the lower-case hex SHA-256 of token: the form in
// which tokens are stored and looked up. Tokens carry 256 random bits, so
// a fast hash is enough; a stolen database does not yield usable tokens.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// DisplayPrefix returns the part of an API key kept in the clear.
func DisplayPrefix(token string) string {
	if len(token) < DisplayPrefixLen {
		return token
	}
	return token[:DisplayPrefixLen]
}

// Equal compares two secrets (or their hashes) in constant time with
// respect to their contents.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
