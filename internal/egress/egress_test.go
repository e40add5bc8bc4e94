package egress

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParsePattern(t *testing.T) {
	good := []struct{ in, canonical string }{
		{"api.github.com", "api.github.com"},
		{"  API.GitHub.com. ", "api.github.com"},
		{"api.github.com:443", "api.github.com:443"},
		{"*.stripe.com", "*.stripe.com"},
		{"*.eu.stripe.com:8443", "*.eu.stripe.com:8443"},
		{"localhost", "localhost"},
		{"203.0.113.7", "203.0.113.7"},
		{"203.0.113.7:8080", "203.0.113.7:8080"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8::1", "[2001:db8::1]"},
		{"[2001:DB8::1]", "[2001:db8::1]"},
		{"[2001:db8::1]:8443", "[2001:db8::1]:8443"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
	}
	for _, g := range good {
		p, err := ParsePattern(g.in)
		if err != nil {
			t.Errorf("ParsePattern(%q): %v", g.in, err)
			continue
		}
		if p.String() != g.canonical {
			t.Errorf("ParsePattern(%q) = %q, want %q", g.in, p.String(), g.canonical)
		}
	}
	bad := []struct{ in, msg string }{
		{"", "empty"},
		{"https://api.github.com", "not a URL"},
		{"api.github.com/repos", "not a URL"},
		{"user@host.com", "not a URL"},
		{"*", "not a valid host name"},
		{"*.com", "two labels"},
		{"a.*.example.com", "character '*'"},
		{"host:0", "port"},
		{"host:65536", "port"},
		{"host:http", "port"},
		{"host:080", "port"},
		{"-bad.example.com", "starts or ends with '-'"},
		{"a..b", "empty or overlong label"},
		{"bücher.example", "xn--"},
		{"[203.0.113.7]", "only an IPv6 address"},
		{"[::1", "without ']'"},
		{"a:b:c", "too many ':'"},
		{"fe80::1%eth0", "zone"},
		{strings.Repeat("a", 64) + ".com", "overlong"},
	}
	for _, b := range bad {
		_, err := ParsePattern(b.in)
		if err == nil {
			t.Errorf("ParsePattern(%q): no error", b.in)
			continue
		}
		if !strings.Contains(err.Error(), b.msg) {
			t.Errorf("ParsePattern(%q) = %v, want it to say %q", b.in, err, b.msg)
		}
	}
}

func TestMatch(t *testing.T) {
	l, err := ParseAllowList([]string{"api.github.com", "*.stripe.com", "hooks.example.com:8443", "203.0.113.7", "[2001:db8::1]:443"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		host, port string
		want       bool
	}{
		{"api.github.com", "443", true},
		{"API.GITHUB.COM.", "80", true},
		{"github.com", "443", false},
		{"evil-api.github.com", "443", false},
		{"api.github.com.evil.com", "443", false},
		{"api.stripe.com", "443", true},
		{"a.b.stripe.com", "443", true},
		{"stripe.com", "443", false},
		{"notstripe.com", "443", false},
		{"hooks.example.com", "8443", true},
		{"hooks.example.com", "443", false},
		{"203.0.113.7", "80", true},
		{"::ffff:203.0.113.7", "80", true},
		{"203.0.113.8", "80", false},
		{"2001:db8::1", "443", true},
		{"2001:db8::1", "80", false},
		// A wildcard or a name never matches an IP address.
		{"1.2.3.4", "443", false},
	} {
		if got := l.Allows(c.host, c.port); got != c.want {
			t.Errorf("Allows(%q, %q) = %v, want %v", c.host, c.port, got, c.want)
		}
	}
	if (AllowList{}).Allows("api.github.com", "443") {
		t.Error("an empty allow-list allows a host")
	}
}

func TestParseAllowListBounds(t *testing.T) {
	many := make([]string, MaxPatterns+1)
	for i := range many {
		many[i] = "example.com"
	}
	if _, err := ParseAllowList(many); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("ParseAllowList of %d entries: %v", len(many), err)
	}
	if _, err := ParseAllowList([]string{"ok.example.com", "bad host"}); err == nil || !strings.Contains(err.Error(), `"bad host"`) {
		t.Errorf("ParseAllowList with a bad entry: %v, want it named", err)
	}
}

func TestNormalize(t *testing.T) {
	got, err := Normalize([]string{"B.example.com", "b.example.com.", "*.Stripe.com", "[2001:DB8::1]"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"b.example.com", "*.stripe.com", "[2001:db8::1]"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Normalize = %q, want %q", got, want)
	}
}

func TestBlocked(t *testing.T) {
	blocked := map[string]string{
		"127.0.0.1":              "loopback",
		"127.255.0.9":            "loopback",
		"::1":                    "loopback",
		"::ffff:127.0.0.1":       "loopback",
		"0.0.0.0":                "unspecified",
		"::":                     "unspecified",
		"10.1.2.3":               "private",
		"172.16.0.1":             "private",
		"172.31.255.255":         "private",
		"192.168.1.1":            "private",
		"fd00::1":                "private",
		"::ffff:192.168.1.1":     "private",
		"169.254.169.254":        "link-local",
		"fe80::1":                "link-local",
		"224.0.0.1":              "multicast",
		"ff02::1":                "multicast",
		"100.64.0.1":             "shared",
		"100.127.255.255":        "shared",
		"0.1.2.3":                "this network",
		"255.255.255.255":        "broadcast",
		"240.0.0.1":              "reserved",
		"64:ff9b::a9fe:a9fe":     "link-local", // NAT64 of 169.254.169.254
		"64:ff9b::7f00:1":        "loopback",
		"2002:c0a8:0101::1":      "private", // 6to4 of 192.168.1.1
		"::127.0.0.1":            "IPv4-compatible",
		"::10.0.0.1":             "IPv4-compatible",
		"64:ff9b:1::1":           "NAT64",
		"fec0::1":                "site-local",
		"192.0.2.1":              "documentation",
		"2001:db8::1":            "documentation",
		"198.18.0.1":             "benchmarking",
		"fe80::1%eth0":           "link-local",
		"::ffff:169.254.169.254": "link-local",
	}
	for s, want := range blocked {
		got := Blocked(netip.MustParseAddr(s))
		if !strings.Contains(got, want) {
			t.Errorf("Blocked(%s) = %q, want it to say %q", s, got, want)
		}
	}
	for _, s := range []string{"1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:0808:0808::1", "::ffff:8.8.8.8"} {
		if got := Blocked(netip.MustParseAddr(s)); got != "" {
			t.Errorf("Blocked(%s) = %q, want it allowed", s, got)
		}
	}
	if Blocked(netip.Addr{}) == "" {
		t.Error("the zero address is not blocked")
	}
}

func TestNormalizePublic(t *testing.T) {
	got, err := NormalizePublic([]string{"API.github.com", "8.8.8.8", "[2606:4700::1111]:443"})
	if err != nil || len(got) != 3 {
		t.Fatalf("NormalizePublic = %v, %v", got, err)
	}
	for _, bad := range []string{"127.0.0.1", "10.0.0.7:8080", "169.254.169.254", "[::1]", "[fe80::1]:80", "10.0.0.0/8"} {
		if _, err := NormalizePublic([]string{"api.github.com", bad}); err == nil {
			t.Errorf("NormalizePublic accepted %q", bad)
		}
	}
}

func TestPrivateList(t *testing.T) {
	got, err := NormalizePrivate([]string{"10.0.0.0/8", "10.1.2.3/8", "DB.internal:5432", "192.168.1.20", "fd00::/8", "::ffff:10.0.0.0/104"})
	want := []string{"10.0.0.0/8", "db.internal:5432", "192.168.1.20", "fd00::/8"}
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("NormalizePrivate = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "10.0.0.0/x", "https://db.internal", ""} {
		if _, err := NormalizePrivate([]string{bad}); err == nil {
			t.Errorf("NormalizePrivate accepted %q", bad)
		}
	}
	l, _ := ParsePrivateList(want)
	for _, tc := range []struct {
		host, port, addr string
		want             bool
	}{
		{"10.9.8.7", "80", "10.9.8.7", true},                // in the prefix
		{"anything.example", "80", "10.9.8.7", true},        // a name resolving into the prefix
		{"db.internal", "5432", "172.16.0.5", true},         // the listed name, wherever it resolves
		{"db.internal", "5433", "172.16.0.5", false},        // on another port
		{"evil.example", "80", "172.16.0.5", false},         // another name to the same address
		{"nas.lan", "80", "192.168.1.20", true},             // the listed address
		{"nas.lan", "80", "192.168.1.21", false},            // not listed
		{"x.example", "80", "127.0.0.1", false},             // loopback, not listed
		{"v6.example", "443", "fd12::1", true},              // an IPv6 prefix
		{"v4mapped.example", "80", "::ffff:10.0.0.1", true}, // an IPv4-mapped address
	} {
		if got := l.Reaches(tc.host, tc.port, netip.MustParseAddr(tc.addr).Unmap()); got != tc.want {
			t.Errorf("Reaches(%s, %s, %s) = %v, want %v", tc.host, tc.port, tc.addr, got, tc.want)
		}
	}
	if !l.Allows("10.1.1.1", "22") || l.Allows("11.0.0.1", "80") {
		t.Error("a prefix entry does not match URL hosts as it should")
	}
}
