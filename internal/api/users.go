package api

import "time"

// User is an account.
type User struct {
	ID        int64     `json:"id"`
	Username  string    `json:"username"`
	Role      string    `json:"role"`       // "admin" or "member"
	RoleLabel string    `json:"role_label"` // "Administrator" or "Member"
	CreatedAt time.Time `json:"created_at"`
}

// NewUser answers a user's creation.
type NewUser struct {
	User
	// Password is set only when the server generated it; it is shown
	// this once.
	Password string `json:"password,omitempty"`
}

// Identity is the caller, as whoami tells.
type Identity struct {
	User
	Via string `json:"via"` // "session" or "api_key"
}

// CreateUserRequest is the body of POST /api/v1/users. An empty password
// asks the server to generate one; an empty role makes a member.
type CreateUserRequest struct {
	Username string `json:"username"`
	Password string `json:"password,omitempty"`
	Role     string `json:"role,omitempty"`
}

// SetPasswordRequest is the body of PUT /api/v1/users/{name}/password.
type SetPasswordRequest struct {
	Password string `json:"password"`
	// CurrentPassword is required when users change their own password,
	// so that a stolen token alone cannot take the account over.
	CurrentPassword string `json:"current_password,omitempty"`
}

// LoginRequest is the body of POST /api/v1/auth/login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Session answers a login.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

// APIKey is one of the caller's API keys; the token itself is never listed.
type APIKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"` // null until used
}

// NewAPIKey answers an API key's creation.
type NewAPIKey struct {
	APIKey
	// RawToken is the key itself, shown this once; only its hash is kept.
	RawToken string `json:"raw_token"`
}

// CreateAPIKeyRequest is the body of POST /api/v1/auth/keys.
type CreateAPIKeyRequest struct {
	Name string `json:"name"`
	// Password is the caller's, required unless the request comes with
	// a fresh session: a key outlives every session, so a stolen session
	// or key must not be able to mint one.
	Password string `json:"password,omitempty"`
}
