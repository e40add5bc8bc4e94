package httpx

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted, err := ParsePrefixes("127.0.0.0/8, ::1, 10.1.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"direct client", "203.0.113.9:4000", nil, "203.0.113.9"},
		{"untrusted peer's header is ignored", "203.0.113.9:4000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted proxy", "127.0.0.1:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a spoofed hop left of the real client", "127.0.0.1:5000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted proxies", "127.0.0.1:5000", []string{"198.51.100.1, 10.1.2.3"}, "198.51.100.1"},
		{"repeated headers", "[::1]:5000", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1"},
		{"trusted proxy without header", "127.0.0.1:5000", nil, "127.0.0.1"},
		{"malformed hop stops the walk", "127.0.0.1:5000", []string{"198.51.100.1, junk"}, "127.0.0.1"},
		{"IPv4-mapped peer", "[::ffff:127.0.0.1]:5000", []string{"198.51.100.1"}, "198.51.100.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientAddr(r, trusted); got != netip.MustParseAddr(tc.want) {
				t.Fatalf("ClientAddr = %v, want %s", got, tc.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes(" 10.0.0.0/8 ,::1,")
	if err != nil || len(got) != 2 || got[1] != netip.MustParsePrefix("::1/128") {
		t.Fatalf("ParsePrefixes = %v, %v", got, err)
	}
	if _, err := ParsePrefixes("10.0.0.0/8, proxy.local"); err == nil {
		t.Fatal("a host name was accepted")
	}
}
