package store

import (
	"errors"
	"time"
)

// ErrTooMany: a write would pass a bound on the number of records, such
// as the secrets of one app.
var ErrTooMany = errors.New("store: too many records")

// Secret is a named value of an app, sealed by package secrets: the store
// holds only the ciphertext, bound to the app's ID and the name.
type Secret struct {
	AppID int64
	Name  string
	// Sealed is the encrypted value; ListSecrets leaves it out, and only
	// ListSecretValues, for the data plane, fills it.
	Sealed    []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}
