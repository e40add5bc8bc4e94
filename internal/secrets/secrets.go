// Package secrets seals the values of apps' secrets for storage, with
// AES-256-GCM from the standard library under one server key, and opens
// them again for the data plane.
//
// A sealed value is
//
//	version (1 byte, 1) | key id (4 bytes) | nonce (12 bytes) | ciphertext and tag
//
// The key id names the key that sealed the value (the first bytes of a
// hash of the key, never the key), so that a value sealed under another
// key is reported as such rather than as corrupt. The additional data
// binds the ciphertext to its app id and secret name: a value copied to
// another app or name does not open.
//
// The package is a leaf: it knows neither the store nor HTTP.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the size of a server key: AES-256.
const KeySize = 32

// format is the version byte of sealed values.
const format byte = 1

const (
	idSize     = 4
	nonceSize  = 12
	headerSize = 1 + idSize + nonceSize
)

// Errors of Open; test with errors.Is.
var (
	// ErrWrongKey: the value was sealed under a key this keyring does not
	// hold (the server key changed).
	ErrWrongKey = errors.New("secrets: sealed with another key")
	// ErrTampered: the value does not authenticate: it was changed, or
	// moved to another app or name.
	ErrTampered = errors.New("secrets: the sealed value does not authenticate")
	// ErrMalformed: the bytes are not a sealed value of a known format.
	ErrMalformed = errors.New("secrets: not a sealed value")
)

// key is one AES-256-GCM key and its id.
type key struct {
	id   [idSize]byte
	aead cipher.AEAD
}

func newKey(raw []byte) (*key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("secrets: a key has %d bytes, not %d", len(raw), KeySize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	k := &key{aead: aead}
	copy(k.id[:], keyID(raw))
	return k, nil
}

// keyID derives a key's public id: a domain-separated hash, so that it
// reveals nothing usable about the key.
func keyID(raw []byte) []byte {
	sum := sha256.Sum256(append([]byte("picloud secret key id\x00"), raw...))
	return sum[:idSize]
}

// Keyring seals with its primary key and opens with any key it holds, so
// that a server can be given its previous key while secrets are set
// again under the new one. It is safe for concurrent use.
type Keyring struct {
	primary *key
	byID    map[[idSize]byte]*key
}

// NewKeyring returns a keyring that seals with primary and opens values
// sealed with primary or any of older.
func NewKeyring(primary []byte, older ...[]byte) (*Keyring, error) {
	p, err := newKey(primary)
	if err != nil {
		return nil, err
	}
	kr := &Keyring{primary: p, byID: map[[idSize]byte]*key{p.id: p}}
	for _, raw := range older {
		k, err := newKey(raw)
		if err != nil {
			return nil, err
		}
		if _, dup := kr.byID[k.id]; !dup {
			kr.byID[k.id] = k
		}
	}
	return kr, nil
}

// ID is the hex id of the primary key, safe to log: it tells two keys
// apart without revealing them.
func (kr *Keyring) ID() string { return hex.EncodeToString(kr.primary.id[:]) }

// Seal encrypts value as the secret name of the app appID, with a fresh
// random nonce.
func (kr *Keyring) Seal(appID int64, name string, value []byte) ([]byte, error) {
	k := kr.primary
	out := make([]byte, headerSize, headerSize+len(value)+k.aead.Overhead())
	out[0] = format
	copy(out[1:], k.id[:])
	if _, err := rand.Read(out[1+idSize : headerSize]); err != nil {
		return nil, fmt.Errorf("secrets: unable to draw a nonce: %w", err)
	}
	return k.aead.Seal(out, out[1+idSize:headerSize], value, additionalData(out[:1+idSize], appID, name)), nil
}

// Open decrypts a value sealed for the secret name of the app appID. Its
// errors wrap ErrMalformed, ErrWrongKey or ErrTampered and never contain
// the value.
func (kr *Keyring) Open(appID int64, name string, sealed []byte) ([]byte, error) {
	if len(sealed) < headerSize || sealed[0] != format {
		return nil, ErrMalformed
	}
	var id [idSize]byte
	copy(id[:], sealed[1:])
	k, ok := kr.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: the value was sealed with key %s, and this server's key is %s",
			ErrWrongKey, hex.EncodeToString(id[:]), kr.ID())
	}
	plain, err := k.aead.Open(nil, sealed[1+idSize:headerSize], sealed[headerSize:], additionalData(sealed[:1+idSize], appID, name))
	if err != nil {
		return nil, ErrTampered
	}
	return plain, nil
}

// additionalData binds a ciphertext to its header, app and name.
func additionalData(header []byte, appID int64, name string) []byte {
	ad := make([]byte, 0, 32+len(name))
	ad = append(ad, "picloud secret\x00"...)
	ad = append(ad, header...)
	ad = binary.BigEndian.AppendUint64(ad, uint64(appID))
	return append(ad, name...)
}
