package executor

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// MaxRandomBytes bounds crypto::random_bytes(n).
const MaxRandomBytes = 1024

// registerCrypto adds the host modules scripts use to check signatures and
// handle encoded data (docs/scripts.md, "Crypto and encoding"):
//
//	crypto::    sha1, sha256, sha512, hmac_sha1, hmac_sha256, hmac_sha512
//	            (hex) and their _base64 forms, constant_time_eq,
//	            random_bytes, uuid
//	encoding::  base64_encode/decode, base64url_encode/decode,
//	            hex_encode/decode, url_encode/decode
//	time::      unix, unix_ms (the wall clock, for timestamp tolerances)
//
// Every data argument is a string (its UTF-8 bytes) or a blob; anything
// else, () from an unset secret above all, is a catchable runtime error
// that names the function and the argument.
func registerCrypto(e *rhai.Engine) {
	e.RegisterModule("crypto", cryptoModule())
	e.RegisterModule("encoding", encodingModule())
	e.RegisterModule("time", timeModule())
}

func cryptoModule() *rhai.Module {
	m := rhai.NewModule()
	l := m.Lib()
	hashes := []struct {
		name string
		new  func() hash.Hash
	}{{"sha1", sha1.New}, {"sha256", sha256.New}, {"sha512", sha512.New}}
	for _, h := range hashes {
		digest := "crypto::" + h.name
		l.Fn(h.name, rhai.P(rhai.TypeAny), func(_ *rhai.Context, a []rhai.Value) (rhai.Value, error) {
			data, err := bytesArg(digest, "data", a[0])
			if err != nil {
				return rhai.Unit, err
			}
			d := h.new()
			d.Write(data)
			return rhai.String(hex.EncodeToString(d.Sum(nil))), nil
		})
		mac := func(fn string, a []rhai.Value) ([]byte, error) {
			key, err := bytesArg(fn, "key", a[0])
			if err != nil {
				return nil, err
			}
			data, err := bytesArg(fn, "data", a[1])
			if err != nil {
				return nil, err
			}
			m := hmac.New(h.new, key)
			m.Write(data)
			return m.Sum(nil), nil
		}
		hexName, b64Name := "hmac_"+h.name, "hmac_"+h.name+"_base64"
		l.Fn(hexName, rhai.P(rhai.TypeAny, rhai.TypeAny), func(_ *rhai.Context, a []rhai.Value) (rhai.Value, error) {
			sum, err := mac("crypto::"+hexName, a)
			if err != nil {
				return rhai.Unit, err
			}
			return rhai.String(hex.EncodeToString(sum)), nil
		})
		l.Fn(b64Name, rhai.P(rhai.TypeAny, rhai.TypeAny), func(_ *rhai.Context, a []rhai.Value) (rhai.Value, error) {
			sum, err := mac("crypto::"+b64Name, a)
			if err != nil {
				return rhai.Unit, err
			}
			return rhai.String(base64.StdEncoding.EncodeToString(sum)), nil
		})
	}
	l.Fn("constant_time_eq", rhai.P(rhai.TypeAny, rhai.TypeAny), func(_ *rhai.Context, a []rhai.Value) (rhai.Value, error) {
		x, err := bytesArg("crypto::constant_time_eq", "the first argument", a[0])
		if err != nil {
			return rhai.Unit, err
		}
		y, err := bytesArg("crypto::constant_time_eq", "the second argument", a[1])
		if err != nil {
			return rhai.Unit, err
		}
		return rhai.Bool(subtle.ConstantTimeCompare(x, y) == 1), nil
	})
	l.Fn("random_bytes", rhai.P(rhai.TypeInt), func(c *rhai.Context, a []rhai.Value) (rhai.Value, error) {
		n := a[0].AsInt()
		if n < 0 || n > MaxRandomBytes {
			return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "crypto::random_bytes: %d is not between 0 and %d", n, MaxRandomBytes)
		}
		h := hostOf(c)
		if h.replay != nil {
			return rhai.NewBlob(h.replay.randomBytes(int(n))), nil
		}
		b := make([]byte, n)
		_, _ = rand.Read(b) // never fails (crypto/rand)
		h.rec.add(JournalEntry{Op: store.JournalRandomBytes, Bytes: append(store.JournalBody(nil), b...)})
		return rhai.NewBlob(b), nil
	})
	l.Fn("uuid", nil, func(c *rhai.Context, _ []rhai.Value) (rhai.Value, error) {
		h := hostOf(c)
		if h.replay != nil {
			return rhai.String(h.replay.uuid()), nil
		}
		u := uuidV4()
		h.rec.add(JournalEntry{Op: store.JournalUUID, Value: u})
		return rhai.String(u), nil
	})
	return m
}

// uuidV4 returns a random UUID (RFC 9562, version 4) in its canonical
// lower-case form.
func uuidV4() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	return formatUUID(u)
}

// formatUUID makes random bytes a version 4 UUID in its canonical
// lower-case form.
func formatUUID(u [16]byte) string {
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant 10
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}

func timeModule() *rhai.Module {
	m := rhai.NewModule()
	m.Lib().Fn("unix", nil, func(c *rhai.Context, _ []rhai.Value) (rhai.Value, error) {
		return rhai.Int(wallClock(c, store.JournalUnix)), nil
	})
	m.Lib().Fn("unix_ms", nil, func(c *rhai.Context, _ []rhai.Value) (rhai.Value, error) {
		return rhai.Int(wallClock(c, store.JournalUnixMillis)), nil
	})
	return m
}

// wallClock answers time::unix (op store.JournalUnix) or time::unix_ms:
// the clock, journaled, or in a replay the journal's.
func wallClock(c *rhai.Context, op string) int64 {
	h := hostOf(c)
	if h.replay != nil {
		return h.replay.wallClock(op)
	}
	now := time.Now()
	v := now.Unix()
	if op == store.JournalUnixMillis {
		v = now.UnixMilli()
	}
	h.rec.add(JournalEntry{Op: op, Int: v})
	return v
}

// registerClock replaces the engine's timestamp() and elapsed, the
// monotonic clock, with ones that are journaled and replayed: a
// timestamp is recorded as its offset from the run's start, an elapsed
// time as the nanoseconds answered.
func registerClock(e *rhai.Engine) {
	e.RegisterFn("timestamp", nil, func(c *rhai.Context, _ []rhai.Value) (rhai.Value, error) {
		h := hostOf(c)
		if h.replay != nil {
			return rhai.NewTimestamp(h.replay.timestamp()), nil
		}
		now := rhai.Now()
		if h.rec.on {
			h.rec.add(JournalEntry{Op: store.JournalTimestamp, Int: now - h.rec.start})
		}
		return rhai.NewTimestamp(now), nil
	})
	elapsed := func(c *rhai.Context, a []rhai.Value) (rhai.Value, error) {
		t := a[0].AsTimestamp()
		h := hostOf(c)
		var d int64
		if h.replay != nil {
			d = h.replay.elapsed(t)
		} else {
			now := rhai.Now()
			if t > now {
				return rhai.Unit, rhai.NewError(rhai.ErrorArithmetic, "Time-stamp is later than now")
			}
			d = now - t
			h.rec.add(JournalEntry{Op: store.JournalElapsed, Int: d})
		}
		return rhai.Float(float64(d/1e9) + float64(d%1e9)/1e9), nil
	}
	e.RegisterFn("elapsed", rhai.P(rhai.TypeTimestamp), elapsed)
	e.RegisterFn("get$elapsed", rhai.P(rhai.TypeTimestamp), elapsed)
}

// hostOf returns the run's host; a run outside the executor (none) gets
// an empty one, which neither records nor replays.
func hostOf(c *rhai.Context) *runHost {
	if h, ok := c.Host().(*runHost); ok && h != nil {
		return h
	}
	return &runHost{}
}

// bytesArg is the bytes of a data argument: a string's UTF-8 or a blob's.
// The argument of the error is what names it ("key", "data").
func bytesArg(fn, arg string, v rhai.Value) ([]byte, error) {
	switch v.Type() {
	case rhai.TypeString:
		return []byte(v.AsString()), nil
	case rhai.TypeBlob:
		return v.AsBlob().B, nil
	case rhai.TypeUnit:
		if arg == "key" {
			return nil, rhai.NewError(rhai.ErrorRuntime, "%s: key is () — is the secret set?", fn)
		}
		return nil, rhai.NewError(rhai.ErrorRuntime, "%s: %s is (), want a string or a blob", fn, arg)
	}
	return nil, rhai.NewError(rhai.ErrorRuntime, "%s: %s is %s, want a string or a blob", fn, arg, v.TypeName())
}

// stringArg is a string argument.
func stringArg(fn, arg string, v rhai.Value) (string, error) {
	if v.Type() == rhai.TypeString {
		return v.AsString(), nil
	}
	return "", rhai.NewError(rhai.ErrorRuntime, "%s: %s is %s, want a string", fn, arg, v.TypeName())
}
