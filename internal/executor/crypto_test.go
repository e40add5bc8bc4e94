package executor

import (
	"regexp"
	"strings"
	"testing"
)

// evalString runs src, which must answer 200 with a text body, and
// returns the body.
func evalString(t *testing.T, x *Executor, src string) string {
	t.Helper()
	res := run(t, x, src, Event{}, Limits{})
	if res.Status != StatusOK || res.HTTPStatus != 200 {
		t.Fatalf("%s: status %s %d, err %v", src, res.Status, res.HTTPStatus, res.Err)
	}
	return string(res.Body)
}

// Test vectors: FIPS 180-2 appendix B (SHA-1, SHA-256, SHA-512 of "abc"),
// RFC 4231 §4 (HMAC-SHA-256, HMAC-SHA-512), RFC 2202 §3 (HMAC-SHA-1) and
// RFC 4648 §10 (base64, base16).
func TestCryptoVectors(t *testing.T) {
	x := New(Config{})
	aa131 := strings.Repeat("aa", 131)
	tests := []struct{ src, want string }{
		{`crypto::sha256("abc")`, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{`crypto::sha256("")`, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{`crypto::sha256("abc".to_blob())`, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{`crypto::sha1("abc")`, "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{`crypto::sha512("abc")`, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
		// RFC 4231 test cases 1, 2, 3, 4, 6 and 7.
		{`crypto::hmac_sha256(encoding::hex_decode("` + strings.Repeat("0b", 20) + `"), "Hi There")`,
			"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{`crypto::hmac_sha256("Jefe", "what do ya want for nothing?")`,
			"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{`crypto::hmac_sha256(encoding::hex_decode("` + strings.Repeat("aa", 20) + `"), encoding::hex_decode("` + strings.Repeat("dd", 50) + `"))`,
			"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{`crypto::hmac_sha256(encoding::hex_decode("0102030405060708090a0b0c0d0e0f10111213141516171819"), encoding::hex_decode("` + strings.Repeat("cd", 50) + `"))`,
			"82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
		{`crypto::hmac_sha256(encoding::hex_decode("` + aa131 + `"), "Test Using Larger Than Block-Size Key - Hash Key First")`,
			"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
		{`crypto::hmac_sha256(encoding::hex_decode("` + aa131 + `"), "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.")`,
			"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
		{`crypto::hmac_sha256_base64("Jefe", "what do ya want for nothing?")`, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="},
		{`crypto::hmac_sha512("Jefe", "what do ya want for nothing?")`,
			"164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
		{`crypto::hmac_sha1("Jefe", "what do ya want for nothing?")`, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		// RFC 4648 §10.
		{`[encoding::base64_encode(""), encoding::base64_encode("f"), encoding::base64_encode("fo"), encoding::base64_encode("foo"),
		   encoding::base64_encode("foob"), encoding::base64_encode("fooba"), encoding::base64_encode("foobar")].reduce(|a, s| a + s + "|", "")`,
			"|Zg==|Zm8=|Zm9v|Zm9vYg==|Zm9vYmE=|Zm9vYmFy|"},
		{`encoding::hex_encode("foobar")`, "666f6f626172"},
		{`encoding::hex_decode("666F6F626172").as_string()`, "foobar"},
		{`encoding::base64_decode("Zm9vYg==").as_string() + encoding::base64_decode("Zm9vYg").as_string()`, "foobfoob"},
		// URL-safe base64: - and _ for + and /, no padding.
		{`encoding::base64url_encode(encoding::hex_decode("fbff"))`, "-_8"},
		{`encoding::base64_encode(encoding::hex_decode("fbff"))`, "+/8="},
		{`encoding::hex_encode(encoding::base64url_decode("-_8")) + encoding::hex_encode(encoding::base64url_decode("-_8="))`, "fbfffbff"},
		{`encoding::url_encode("a b&c=d/é~")`, "a+b%26c%3Dd%2F%C3%A9~"},
		{`encoding::url_decode("a+b%26c%3Dd%2F%C3%A9~")`, "a b&c=d/é~"},
		{`crypto::constant_time_eq("abc", "abc").to_string() + crypto::constant_time_eq("abc", "abd") +
		   crypto::constant_time_eq("abc", "ab") + crypto::constant_time_eq("abc", "abc".to_blob())`, "truefalsefalsetrue"},
		{`crypto::random_bytes(16).len().to_string() + crypto::random_bytes(0).len() + crypto::random_bytes(1024).len()`, "1601024"},
		{`crypto::random_bytes(32) != crypto::random_bytes(32)`, "true"},
	}
	for _, tt := range tests {
		if got := evalString(t, x, tt.src); got != tt.want {
			t.Errorf("%s\n got %q\nwant %q", tt.src, got, tt.want)
		}
	}
}

func TestUUID(t *testing.T) {
	x := New(Config{})
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		u := uuidV4()
		if !v4.MatchString(u) || seen[u] {
			t.Fatalf("uuid %q: not a fresh version 4 UUID", u)
		}
		seen[u] = true
	}
	if u := evalString(t, x, `crypto::uuid()`); !v4.MatchString(u) {
		t.Fatalf("crypto::uuid() = %q", u)
	}
}

func TestTimeUnix(t *testing.T) {
	x := New(Config{})
	got := evalString(t, x, `let s = time::unix(); let ms = time::unix_ms(); if ms / 1000 - s > 1 || s < 1700000000 { "bad" } else { "ok" }`)
	if got != "ok" {
		t.Fatalf("time::unix and time::unix_ms disagree or are not the wall clock")
	}
}

// Bad input is a runtime error that names the function and what is wrong,
// and that a script can catch.
func TestCryptoErrors(t *testing.T) {
	x := New(Config{})
	tests := []struct{ src, want string }{
		{`crypto::hmac_sha256((), "data")`, "crypto::hmac_sha256: key is () — is the secret set?"},
		{`let env = #{}; crypto::hmac_sha256_base64(env.MISSING, "data")`, "crypto::hmac_sha256_base64: key is () — is the secret set?"},
		{`crypto::hmac_sha256("k", ())`, "crypto::hmac_sha256: data is (), want a string or a blob"},
		{`crypto::hmac_sha256(42, "data")`, "crypto::hmac_sha256: key is i64, want a string or a blob"},
		{`crypto::sha256(#{a: 1})`, "crypto::sha256: data is map, want a string or a blob"},
		{`crypto::constant_time_eq("a", ())`, "crypto::constant_time_eq: the second argument is ()"},
		{`crypto::random_bytes(1025)`, "crypto::random_bytes: 1025 is not between 0 and 1024"},
		{`crypto::random_bytes(-1)`, "crypto::random_bytes: -1 is not between 0 and 1024"},
		{`encoding::base64_decode("not base64!")`, "encoding::base64_decode: not valid base64"},
		{`encoding::base64url_decode("+/8")`, "encoding::base64url_decode: not valid URL-safe base64"},
		{`encoding::hex_decode("abc")`, "encoding::hex_decode: not valid hex"},
		{`encoding::hex_decode("zz")`, "encoding::hex_decode: not valid hex"},
		{`encoding::hex_decode(())`, "encoding::hex_decode: the argument is (), want a string"},
		{`encoding::url_decode("%zz")`, "encoding::url_decode: invalid URL escape"},
		{`encoding::url_decode("%ff")`, "encoding::url_decode: the decoded text is not UTF-8"},
	}
	for _, tt := range tests {
		res := run(t, x, tt.src, Event{}, Limits{})
		if res.Status != StatusError || res.Err == nil || !strings.Contains(res.Err.Error(), tt.want) ||
			!strings.Contains(res.Summary, "ErrorRuntime") {
			t.Errorf("%s: %s, err %v, summary %q; want a runtime error with %q", tt.src, res.Status, res.Err, res.Summary, tt.want)
		}
		caught := evalString(t, x, `let r = "not caught"; try { `+tt.src+`; } catch (e) { r = e.message; } r`)
		if !strings.Contains(caught, tt.want) {
			t.Errorf("%s: caught %q; want %q", tt.src, caught, tt.want)
		}
	}
}

// Limits hold: hashing a blob costs no extra data, but encoding past the
// data limit is stopped like any other string.
func TestEncodingWithinLimits(t *testing.T) {
	x := New(Config{})
	res := run(t, x, `let b = blob(600000, 0); encoding::hex_encode(b).len()`, Event{}, Limits{MaxMemoryBytes: 1 << 20})
	if res.Status != StatusLimit {
		t.Fatalf("hex of 600 kB under a 1 MiB limit: %s %v", res.Status, res.Err)
	}
}
