package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The key-value store: every app has its own durable map of keys to JSON
// values, which its scripts reach through the kv module and its members
// through the API. Values may expire; an expired key reads as absent and
// its row is removed lazily, by later writes to the app and by
// PurgeExpiredKV, so an idle server does no work for it.

// ErrQuota: a key-value write would take a value or an app past one of its
// KVLimits. The error is a *QuotaError.
var ErrQuota = errors.New("store: quota exceeded")

// Errors of KVIncr, which wrap ErrConflict.
var (
	ErrKVNotInteger = fmt.Errorf("the value is not an integer: %w", ErrConflict)
	ErrKVOverflow   = fmt.Errorf("the sum overflows 64 bits: %w", ErrConflict)
)

// MaxKVKeyBytes bounds the length of a key, in bytes of UTF-8.
const MaxKVKeyBytes = 256

// MaxKVList bounds the keys one KVList returns, and is its default.
const MaxKVList = 1000

// Default bounds of an app's key-value store, where neither the server's
// configuration nor the app sets one.
const (
	DefaultKVMaxValueBytes = 64 << 10
	DefaultKVMaxBytes      = 10 << 20
	DefaultKVMaxKeys       = 10_000
)

// KVLimits bound an app's key-value store. A zero field is no bound for
// the store; the services always resolve them first (Or, Merge).
type KVLimits struct {
	// MaxValueBytes bounds one value, as JSON text.
	MaxValueBytes int64 `json:"max_value_bytes"`
	// MaxBytes bounds the app's keys and values together, in bytes.
	MaxBytes int64 `json:"max_bytes"`
	// MaxKeys bounds the number of keys of the app.
	MaxKeys int64 `json:"max_keys"`
}

// DefaultKVLimits are the built-in bounds.
func DefaultKVLimits() KVLimits {
	return KVLimits{MaxValueBytes: DefaultKVMaxValueBytes, MaxBytes: DefaultKVMaxBytes, MaxKeys: DefaultKVMaxKeys}
}

// Or returns l with its zero fields taken from d.
func (l KVLimits) Or(d KVLimits) KVLimits {
	if l.MaxValueBytes <= 0 {
		l.MaxValueBytes = d.MaxValueBytes
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = d.MaxKeys
	}
	return l
}

// Merge returns l with the app's non-zero overrides applied.
func (l KVLimits) Merge(o AppLimits) KVLimits {
	return KVLimits{MaxValueBytes: o.KVMaxValueBytes, MaxBytes: o.KVMaxBytes, MaxKeys: o.KVMaxKeys}.Or(l)
}

// KVEntry is one key of an app's key-value store.
type KVEntry struct {
	Key       string
	Value     []byte // JSON text; nil in lists
	Size      int64  // bytes of Value
	ExpiresAt time.Time
	UpdatedAt time.Time
}

// KVFilter selects keys of an app, in byte order.
type KVFilter struct {
	// Prefix selects the keys that start with it, byte for byte: no
	// character is a wildcard.
	Prefix string
	// After selects the keys after it, to read a long list page by page.
	After string
	Limit int // 0 or more than MaxKVList: MaxKVList
}

// KVUsage is what an app's key-value store holds: its rows, expired ones
// included until they are purged. Bytes counts keys and values.
type KVUsage struct {
	Keys  int64
	Bytes int64
}

// KVStore is the key-value part of Store, which the executor needs alone.
// Times are the caller's clock: now decides what has expired and stamps
// UpdatedAt.
type KVStore interface {
	// KVGet returns a key's entry; ErrNotFound when it is absent or
	// expired.
	KVGet(ctx context.Context, appID int64, key string, now time.Time) (KVEntry, error)
	// KVSet stores value, JSON text, under key, replacing its value and
	// expiry; a zero expiresAt never expires. It fails with a *QuotaError
	// (ErrQuota) when the value or the app's total would exceed lim, and
	// with ErrNotFound when the app does not exist.
	KVSet(ctx context.Context, appID int64, key string, value []byte, expiresAt time.Time, lim KVLimits, now time.Time) error
	// KVIncr atomically adds n to the integer stored under key and
	// returns the sum. A key that is absent or expired counts as 0 and
	// gets no expiry; an existing key keeps its own. A value that is not
	// an integer fails with ErrKVNotInteger, a sum that would overflow
	// with ErrKVOverflow; both wrap ErrConflict.
	KVIncr(ctx context.Context, appID int64, key string, n int64, lim KVLimits, now time.Time) (int64, error)
	// KVDelete removes a key and reports whether it existed (an expired
	// key did not).
	KVDelete(ctx context.Context, appID int64, key string, now time.Time) (bool, error)
	// KVList lists the keys of f that have not expired, in byte order,
	// without their values.
	KVList(ctx context.Context, appID int64, f KVFilter, now time.Time) ([]KVEntry, error)
	// KVUsage returns what the app's store holds; zero for an app that
	// never stored a key.
	KVUsage(ctx context.Context, appID int64) (KVUsage, error)
	// PurgeExpiredKV removes at most limit keys, of any app, expired at
	// now, and returns how many it removed.
	PurgeExpiredKV(ctx context.Context, now time.Time, limit int) (int64, error)
}

// Which limit a QuotaError is about.
const (
	QuotaValue = "value" // KVLimits.MaxValueBytes
	QuotaBytes = "bytes" // KVLimits.MaxBytes
	QuotaKeys  = "keys"  // KVLimits.MaxKeys
)

// QuotaError is the error of a key-value write refused by a KVLimits.
type QuotaError struct {
	Limit string // QuotaValue, QuotaBytes or QuotaKeys
	// Need is the size of the value, or the app's bytes or keys after the
	// write.
	Need int64
	Max  int64
}

func (e *QuotaError) Error() string {
	switch e.Limit {
	case QuotaValue:
		return fmt.Sprintf("value of %d bytes is over the limit of %d", e.Need, e.Max)
	case QuotaKeys:
		return fmt.Sprintf("the app would have %d keys, over its limit of %d", e.Need, e.Max)
	}
	return fmt.Sprintf("the app's keys and values would take %d bytes, over its limit of %d", e.Need, e.Max)
}

// Is makes errors.Is(err, ErrQuota) hold.
func (e *QuotaError) Is(target error) bool { return target == ErrQuota }

// CheckKVValue fails with a *QuotaError when a value of size bytes is
// over lim.
func CheckKVValue(size int64, lim KVLimits) error {
	if lim.MaxValueBytes > 0 && size > lim.MaxValueBytes {
		return &QuotaError{Limit: QuotaValue, Need: size, Max: lim.MaxValueBytes}
	}
	return nil
}

// Replace returns the usage after a write that stores a row of newBytes
// (key and value) in place of one of oldBytes, or of none when existed is
// false. It fails with a *QuotaError when the write grows the keys or the
// bytes past lim; a write that does not grow them is always allowed, even
// above a limit lowered since.
func (u KVUsage) Replace(existed bool, oldBytes, newBytes int64, lim KVLimits) (KVUsage, error) {
	next := KVUsage{Keys: u.Keys, Bytes: u.Bytes - oldBytes + newBytes}
	if !existed {
		next.Keys++
	}
	if lim.MaxKeys > 0 && next.Keys > lim.MaxKeys && next.Keys > u.Keys {
		return u, &QuotaError{Limit: QuotaKeys, Need: next.Keys, Max: lim.MaxKeys}
	}
	if lim.MaxBytes > 0 && next.Bytes > lim.MaxBytes && next.Bytes > u.Bytes {
		return u, &QuotaError{Limit: QuotaBytes, Need: next.Bytes, Max: lim.MaxBytes}
	}
	return next, nil
}

// KVRow is a key's row as a write transaction finds it.
type KVRow struct {
	Exists    bool
	Value     []byte
	Size      int64     // of the value
	ExpiresAt time.Time // the zero time: never
}

// Live reports whether the row exists and has not expired at now.
func (r KVRow) Live(now time.Time) bool {
	return r.Exists && (r.ExpiresAt.IsZero() || r.ExpiresAt.After(now))
}

// KVWriter is one app's keys within a backend's write transaction, which
// writes the usage back when it ends. The writes whose logic both
// backends share (SetKV, IncrKV, AdmitKV) go through it.
type KVWriter interface {
	// Row reads the present row of key.
	Row(key string) (KVRow, error)
	// Put writes the row of key, which AdmitKV has accounted for.
	Put(key string, value []byte, expiresAt time.Time) error
	// PurgeExpired removes all the app's expired keys, takes them off
	// the usage and returns how many it removed.
	PurgeExpired() (int64, error)
	// Usage is the app's usage as the transaction will write it back.
	Usage() *KVUsage
}

// SetKV stores value under key within w, inside the quota.
func SetKV(w KVWriter, key string, value []byte, expiresAt time.Time, lim KVLimits) error {
	old, err := w.Row(key)
	if err != nil {
		return err
	}
	if err := AdmitKV(w, key, old, int64(len(key)+len(value)), lim); err != nil {
		return err
	}
	return w.Put(key, value, expiresAt)
}

// IncrKV adds n to the integer under key within w (an absent or expired
// key counts as 0), keeping a live key's expiry, and returns the sum.
func IncrKV(w KVWriter, key string, n int64, lim KVLimits, now time.Time) (int64, error) {
	old, err := w.Row(key)
	if err != nil {
		return 0, err
	}
	var (
		cur       []byte
		expiresAt time.Time
	)
	if old.Live(now) {
		cur, expiresAt = old.Value, old.ExpiresAt
	}
	sum, value, err := KVAdd(cur, n)
	if err != nil {
		return 0, err
	}
	if err := AdmitKV(w, key, old, int64(len(key)+len(value)), lim); err != nil {
		return 0, err
	}
	return sum, w.Put(key, value, expiresAt)
}

// AdmitKV accounts, on w's usage, for a row of rowBytes (key and value)
// stored under key in place of old, its present row. When that would
// exceed a quota, it first purges the app's expired keys, then reads the
// present row again (it may have expired) and tries once more; the quota
// error stands when that makes no room.
func AdmitKV(w KVWriter, key string, old KVRow, rowBytes int64, lim KVLimits) error {
	usage := w.Usage()
	for purged := false; ; purged = true {
		oldBytes := int64(0)
		if old.Exists {
			oldBytes = int64(len(key)) + old.Size
		}
		next, err := usage.Replace(old.Exists, oldBytes, rowBytes, lim)
		if err == nil {
			*usage = next
			return nil
		}
		if purged {
			return err
		}
		n, perr := w.PurgeExpired()
		if perr != nil {
			return perr
		}
		if n == 0 {
			return err
		}
		if old, err = w.Row(key); err != nil {
			return err
		}
	}
}

// ValidKVKey checks a key: not empty, valid UTF-8 without NUL, at most
// MaxKVKeyBytes.
func ValidKVKey(key string) error {
	switch {
	case key == "":
		return errors.New("the key is empty")
	case len(key) > MaxKVKeyBytes:
		return fmt.Errorf("the key of %d bytes is longer than the limit of %d", len(key), MaxKVKeyBytes)
	case !utf8.ValidString(key):
		return errors.New("the key is not valid UTF-8")
	}
	for i := range len(key) {
		if key[i] == 0 {
			return errors.New("the key contains a NUL character")
		}
	}
	return nil
}

// KVPrefixEnd returns the least string above every string that starts
// with prefix, valid UTF-8, and false when there is none (prefix is empty
// or only of the highest code point). Both backends compare keys byte by
// byte, which for UTF-8 is the order of code points, so `key >= prefix AND
// key < end` selects the keys with the prefix through an index range, with
// no LIKE pattern to escape; the bound is valid UTF-8, as PostgreSQL
// requires of text. prefix must be valid UTF-8.
func KVPrefixEnd(prefix string) (string, bool) {
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		switch r {
		case utf8.MaxRune:
			continue // no code point above it: bump the one before
		case 0xD7FF: // the next code point is past the surrogates
			return prefix + "\uE000", true
		}
		return prefix + string(r+1), true
	}
	return "", false
}

// KVAdd adds n to value, the JSON text of an integer, for KVIncr: nil
// value counts as 0. It returns the sum and its JSON text; a value that is
// not an integer fails with ErrKVNotInteger, a sum that would overflow
// with ErrKVOverflow.
func KVAdd(value []byte, n int64) (int64, []byte, error) {
	var cur int64
	if value != nil {
		var err error
		cur, err = strconv.ParseInt(strings.TrimSpace(string(value)), 10, 64)
		if err != nil {
			return 0, nil, ErrKVNotInteger
		}
	}
	sum := cur + n
	if (n > 0 && sum < cur) || (n < 0 && sum > cur) {
		return 0, nil, ErrKVOverflow
	}
	return sum, strconv.AppendInt(nil, sum, 10), nil
}
