package executor

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/picloud/picloud/rhai"
)

// encodingModule is encoding::, text forms of bytes. Encoders take a
// string or a blob and return a string; the base64 and hex decoders
// return a blob (`.as_string()` makes it text), url_decode a string.
func encodingModule() *rhai.Module {
	m := rhai.NewModule()
	l := m.Lib()
	encoder := func(name string, enc func([]byte) string) {
		fn := "encoding::" + name
		l.Fn(name, rhai.P(rhai.TypeAny), func(_ *rhai.Context, a []rhai.Value) (rhai.Value, error) {
			data, err := bytesArg(fn, "data", a[0])
			if err != nil {
				return rhai.Unit, err
			}
			return rhai.String(enc(data)), nil
		})
	}
	decoder := func(name, what string, dec func(string) ([]byte, error)) {
		fn := "encoding::" + name
		l.Fn(name, rhai.P(rhai.TypeAny), func(_ *rhai.Context, a []rhai.Value) (rhai.Value, error) {
			s, err := stringArg(fn, "the argument", a[0])
			if err != nil {
				return rhai.Unit, err
			}
			b, err := dec(s)
			if err != nil {
				return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "%s: not valid %s: %v", fn, what, err)
			}
			return rhai.NewBlob(b), nil
		})
	}
	// Standard base64 (RFC 4648 §4) is written padded; URL-safe base64
	// (§5) unpadded, as in JWTs. Both decoders take either.
	encoder("base64_encode", base64.StdEncoding.EncodeToString)
	decoder("base64_decode", "base64", func(s string) ([]byte, error) {
		return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	})
	encoder("base64url_encode", base64.RawURLEncoding.EncodeToString)
	decoder("base64url_decode", "URL-safe base64", func(s string) ([]byte, error) {
		return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	})
	encoder("hex_encode", hex.EncodeToString)
	decoder("hex_decode", "hex", hex.DecodeString)
	// url_encode escapes for a query string: a space is "+", and every
	// byte but letters, digits and -_.~ is %XX.
	encoder("url_encode", func(b []byte) string { return url.QueryEscape(string(b)) })
	l.Fn("url_decode", rhai.P(rhai.TypeAny), func(_ *rhai.Context, a []rhai.Value) (rhai.Value, error) {
		const fn = "encoding::url_decode"
		s, err := stringArg(fn, "the argument", a[0])
		if err != nil {
			return rhai.Unit, err
		}
		out, err := url.QueryUnescape(s)
		if err != nil {
			return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "%s: %v", fn, err)
		}
		if !utf8.ValidString(out) {
			return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "%s: the decoded text is not UTF-8", fn)
		}
		return rhai.String(out), nil
	})
	return m
}
