package api

import (
	"encoding/json"
	"time"
)

// KVEntry is a key of an app's key-value store. Value is set when one key
// is read, and holds its JSON.
type KVEntry struct {
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value,omitempty"`
	Size      int64           `json:"size"` // bytes of the value, as JSON
	UpdatedAt time.Time       `json:"updated_at"`
	ExpiresAt *time.Time      `json:"expires_at"` // null: never
}

// PutKVRequest is the body of PUT /api/v1/apps/{slug}/kv/{key}.
type PutKVRequest struct {
	Value json.RawMessage `json:"value"`
	// TTLSeconds makes the key expire; absent, it never does.
	TTLSeconds *int64 `json:"ttl_seconds,omitempty"`
}

// Secret is an app's secret as the API describes it: its value is never
// part of an answer.
type Secret struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PutSecretRequest is the body of PUT /api/v1/apps/{slug}/secrets/{name}.
type PutSecretRequest struct {
	Value *string `json:"value"`
}
