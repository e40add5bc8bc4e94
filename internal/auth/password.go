// Package auth holds PiCloud's credential primitives: argon2id password
// hashes, bearer tokens and their stored hashes, constant-time comparison,
// generated passwords, and a throttle for failed logins. It imports nothing
// of PiCloud, so the manager, the CLI and the offline admin command share it.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters of a password hash. They are
// encoded into the hash, so hashes made with other parameters still verify.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams follow OWASP's minimum recommendation for argon2id
// (19 MiB, two passes, one lane): a login costs tens of milliseconds on a
// laptop and a few hundred on a Raspberry Pi.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on the parameters a stored hash may ask for, so that a tampered
// or foreign hash cannot make verification allocate without limit.
const (
	maxMemory  = 1 << 20 // 1 GiB in KiB
	maxTime    = 64
	maxThreads = 64
	maxLen     = 1024
)

// MaxPasswordLen bounds the passwords HashPassword accepts; longer input is
// an error rather than silently truncated.
const MaxPasswordLen = 1024

// ErrMalformedHash is returned for an encoded hash that cannot be read.
var ErrMalformedHash = errors.New("auth: malformed password hash")

var b64 = base64.RawStdEncoding

// HashPassword hashes password with argon2id and DefaultParams.
func HashPassword(password string) (string, error) {
	return HashPasswordWith(password, DefaultParams)
}

// HashPasswordWith hashes password with argon2id and p, returning the
// PHC-style string "$argon2id$v=19$m=…,t=…,p=…$salt$hash" (unpadded
// standard base64).
func HashPasswordWith(password string, p Params) (string, error) {
	if len(password) > MaxPasswordLen {
		return "", fmt.Errorf("auth: password longer than %d bytes", MaxPasswordLen)
	}
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.SaltLen == 0 || p.KeyLen == 0 {
		return "", errors.New("auth: argon2id parameters must be positive")
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: unable to read random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the encoded hash,
// comparing the derived keys in constant time. A hash it cannot read is
// an error wrapping ErrMalformedHash.
func VerifyPassword(encoded, password string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// decodeHash reads "$argon2id$v=19$m=M,t=T,p=P$salt$key".
func decodeHash(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not an argon2id hash", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported version %q", ErrMalformedHash, parts[2])
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return p, nil, nil, fmt.Errorf("%w: bad parameter %q", ErrMalformedHash, kv)
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > maxThreads {
				return p, nil, nil, fmt.Errorf("%w: too many threads", ErrMalformedHash)
			}
			p.Threads = uint8(n)
		default:
			return p, nil, nil, fmt.Errorf("%w: unknown parameter %q", ErrMalformedHash, k)
		}
	}
	if p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > maxTime || p.Threads == 0 {
		return p, nil, nil, fmt.Errorf("%w: parameters out of range", ErrMalformedHash)
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) == 0 || len(salt) > maxLen {
		return p, nil, nil, fmt.Errorf("%w: bad salt", ErrMalformedHash)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > maxLen {
		return p, nil, nil, fmt.Errorf("%w: bad key", ErrMalformedHash)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// passwordAlphabet leaves out characters that are easy to misread
// (0/O, 1/l/I) because a generated password is read off a terminal.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratedPasswordLen is the length of GeneratePassword's passwords:
// 20 characters of a 57-letter alphabet, about 116 bits.
const GeneratedPasswordLen = 20

// GeneratePassword returns a random password for a new account, such as
// the first admin's.
func GeneratePassword() (string, error) {
	out := make([]byte, 0, GeneratedPasswordLen)
	buf := make([]byte, 64)
	// Rejection sampling keeps every letter equally likely: bytes at or
	// above the largest multiple of the alphabet size are skipped.
	limit := byte(256 - 256%len(passwordAlphabet))
	for len(out) < GeneratedPasswordLen {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("auth: unable to read random bytes: %w", err)
		}
		for _, b := range buf {
			if b < limit && len(out) < GeneratedPasswordLen {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out), nil
}
