// Package egress holds the rules of PiCloud's outbound HTTP, the calls
// scripts make with the `http` module: the host patterns of an app's
// allow-list, and the address ranges that no script may connect to unless
// an administrator allows the app to (so that a script cannot reach into
// the server's own network: its loopback, its LAN, a cloud's metadata
// service).
//
// The manager validates allow-lists with it; the executor matches URLs
// against them and checks every address it dials.
package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// MaxPatterns bounds the entries of one allow-list.
const MaxPatterns = 100

// Pattern is one entry of an allow-list:
//
//	api.github.com        that host, on any port
//	api.github.com:443    that host, on port 443 only
//	*.stripe.com          every subdomain of stripe.com (not stripe.com itself)
//	203.0.113.7, [2001:db8::1]:8443
//	                      an IP address, which a URL may use only when listed
//
// Host names are compared without case and without a trailing dot.
//
// An administrator's private list (ParsePrivateList) may also hold CIDR
// prefixes, such as 10.0.0.0/8, on any port.
type Pattern struct {
	host     string // lower case; for a wildcard, the domain after "*."
	wildcard bool
	ip       netip.Addr   // set for an IP address
	prefix   netip.Prefix // set for a CIDR prefix (private lists only)
	port     string       // "" for any port
}

// ParsePattern reads an allow-list entry.
func ParsePattern(s string) (Pattern, error) {
	in := s
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return Pattern{}, errors.New("an empty host")
	case strings.Contains(s, "://"):
		return Pattern{}, fmt.Errorf("%q: give a host name, not a URL (drop the scheme)", in)
	case strings.ContainsAny(s, "/?#@"):
		return Pattern{}, fmt.Errorf("%q: give a host name, optionally with :port, not a URL", in)
	}
	host, port, err := splitHostPort(s)
	if err != nil {
		return Pattern{}, fmt.Errorf("%q: %w", in, err)
	}
	var p Pattern
	p.port = port
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return Pattern{}, fmt.Errorf("%q: an IP address with a zone cannot be allowed", in)
		}
		p.ip = ip.Unmap()
		return p, nil
	}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		p.wildcard, host = true, rest
		if !strings.Contains(strings.TrimSuffix(host, "."), ".") {
			return Pattern{}, fmt.Errorf("%q: a wildcard needs a domain of two labels or more, such as *.example.com", in)
		}
	}
	host = strings.TrimSuffix(host, ".")
	if err := validName(host); err != nil {
		return Pattern{}, fmt.Errorf("%q: %w", in, err)
	}
	p.host = host
	return p, nil
}

// splitHostPort splits "host", "host:port", "[v6]", "[v6]:port" or a bare
// IPv6 address.
func splitHostPort(s string) (host, port string, err error) {
	if rest, ok := strings.CutPrefix(s, "["); ok {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", errors.New("a '[' without ']'")
		}
		host, tail := rest[:end], rest[end+1:]
		if _, err := netip.ParseAddr(host); err != nil || !strings.Contains(host, ":") {
			return "", "", errors.New("only an IPv6 address goes in brackets")
		}
		if tail == "" {
			return host, "", nil
		}
		port, ok := strings.CutPrefix(tail, ":")
		if !ok {
			return "", "", errors.New("unexpected text after ']'")
		}
		return host, port, validPort(port)
	}
	switch strings.Count(s, ":") {
	case 0:
		return s, "", nil
	case 1:
		host, port, _ := strings.Cut(s, ":")
		return host, port, validPort(port)
	}
	if _, err := netip.ParseAddr(s); err != nil {
		return "", "", errors.New("too many ':' (write an IPv6 address with a port as [address]:port)")
	}
	return s, "", nil
}

func validPort(port string) error {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || port[0] == '0' {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return nil
}

// validName checks a DNS name: labels of letters, digits, hyphens and
// underscores, not starting or ending with a hyphen.
func validName(name string) error {
	if name == "" || len(name) > 253 {
		return errors.New("not a valid host name")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("not a valid host name (empty or overlong label)")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("not a valid host name (a label starts or ends with '-')")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				if c >= 0x80 {
					return errors.New("not a valid host name (write an internationalised name in its xn-- form)")
				}
				return fmt.Errorf("not a valid host name (character %q)", c)
			}
		}
	}
	return nil
}

// String is the pattern in its canonical form, as stored.
func (p Pattern) String() string {
	var host string
	switch {
	case p.prefix.IsValid():
		return p.prefix.String()
	case p.ip.IsValid() && p.ip.Is6():
		host = "[" + p.ip.String() + "]"
		if p.port == "" {
			return host
		}
	case p.ip.IsValid():
		host = p.ip.String()
	case p.wildcard:
		host = "*." + p.host
	default:
		host = p.host
	}
	if p.port != "" {
		return host + ":" + p.port
	}
	return host
}

// Match reports whether the pattern allows host (as in a URL: a name or
// an IP address, IPv6 without brackets) on port (decimal).
func (p Pattern) Match(host, port string) bool {
	if p.port != "" && p.port != port {
		return false
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.matchAddr(ip)
	}
	switch {
	case p.ip.IsValid(), p.prefix.IsValid():
		return false
	case p.wildcard:
		return strings.HasSuffix(host, "."+p.host)
	}
	return host == p.host
}

// matchAddr reports whether the pattern is an address or prefix holding ip.
func (p Pattern) matchAddr(ip netip.Addr) bool {
	if ip.Zone() != "" {
		return false
	}
	ip = ip.Unmap()
	return p.ip.IsValid() && ip == p.ip || p.prefix.IsValid() && p.prefix.Contains(ip)
}

// AllowList is an app's parsed allow-list; empty, it allows nothing.
type AllowList []Pattern

// ParseAllowList parses the entries of an allow-list; its error names the
// first bad one.
func ParseAllowList(entries []string) (AllowList, error) {
	return parseList(entries, "hosts; an allow-list", ParsePattern)
}

// Normalize parses entries and returns them in canonical form, without
// duplicates, in their order.
func Normalize(entries []string) ([]string, error) {
	return normalize(ParseAllowList(entries))
}

// parseList parses at most MaxPatterns entries with parse; what names the
// entries and the list in the error about too many.
func parseList(entries []string, what string, parse func(string) (Pattern, error)) (AllowList, error) {
	if len(entries) > MaxPatterns {
		return nil, fmt.Errorf("%d %s holds at most %d", len(entries), what, MaxPatterns)
	}
	l := make(AllowList, 0, len(entries))
	for _, e := range entries {
		p, err := parse(e)
		if err != nil {
			return nil, err
		}
		l = append(l, p)
	}
	return l, nil
}

// normalize returns a parsed list in canonical form, without duplicates,
// in its order.
func normalize(l AllowList, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(l))
	out := make([]string, 0, len(l))
	for _, p := range l {
		if s := p.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// Allows reports whether an entry of the list matches host and port.
func (l AllowList) Allows(host, port string) bool {
	for _, p := range l {
		if p.Match(host, port) {
			return true
		}
	}
	return false
}

// NormalizePublic is Normalize for the allow-list that an app's editors
// manage, which names public hosts only: an IP address that Blocked
// refuses is an error pointing to the private list. A host name cannot be
// judged here (it may resolve anywhere): its addresses are checked as they
// are dialed.
func NormalizePublic(entries []string) ([]string, error) {
	out, err := Normalize(entries)
	if err != nil {
		return nil, err
	}
	for _, e := range out {
		p, _ := ParsePattern(e)
		if why := Blocked(p.ip); p.ip.IsValid() && why != "" {
			return nil, fmt.Errorf("%q is %s; private addresses are reachable only when an administrator names them in the private list", e, why)
		}
	}
	return out, nil
}

// ParsePrivate reads an entry of an administrator's private list: a CIDR
// prefix, or an allow-list pattern (a host name, a wildcard, an address).
func ParsePrivate(s string) (Pattern, error) {
	t := strings.TrimSpace(s)
	if !strings.Contains(t, "/") {
		return ParsePattern(s)
	}
	pre, err := netip.ParsePrefix(t)
	if err != nil {
		return Pattern{}, fmt.Errorf("%q: not a CIDR prefix such as 10.0.0.0/8", s)
	}
	if pre.Addr().Zone() != "" {
		return Pattern{}, fmt.Errorf("%q: a prefix with a zone cannot be allowed", s)
	}
	if pre.Addr().Is4In6() {
		pre = netip.PrefixFrom(pre.Addr().Unmap(), max(0, pre.Bits()-96))
	}
	return Pattern{prefix: pre.Masked()}, nil
}

// ParsePrivateList parses an administrator's private list.
func ParsePrivateList(entries []string) (AllowList, error) {
	return parseList(entries, "entries; a private list", ParsePrivate)
}

// NormalizePrivate parses a private list and returns it in canonical form,
// without duplicates, in its order.
func NormalizePrivate(entries []string) ([]string, error) {
	return normalize(ParsePrivateList(entries))
}

// Reaches reports whether a private list lets a connection to addr go
// ahead, made to reach host (the URL's host) on port: addr is listed, or
// in a listed prefix, or host is a listed name. It is asked at connect
// time, for the address a name resolved to, so that a public name that
// resolves to a private address (DNS rebinding) is refused unless an
// administrator listed the name or the address.
func (l AllowList) Reaches(host, port string, addr netip.Addr) bool {
	for _, p := range l {
		if p.port != "" && p.port != port {
			continue
		}
		if p.matchAddr(addr) || p.Match(host, port) {
			return true
		}
	}
	return false
}

// Special-purpose ranges that the standard library's predicates do not
// name, refused like private ones.
var reserved = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "a \"this network\" address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "a reserved address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
}

// Embedded IPv4 addresses: NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
// addresses reach the IPv4 address inside them, which is checked too.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// Blocked says why a script may not connect to addr unless its app is
// allowed private addresses — "a loopback address", "a private address" …
// — or returns "" when it may. Refused: unspecified, loopback, private
// (RFC 1918, fc00::/7), link-local (169.254.0.0/16 with cloud metadata
// services, fe80::/10), multicast, shared (100.64.0.0/10) and other
// special-purpose addresses, in IPv4 or any IPv6 form that embeds one.
func Blocked(addr netip.Addr) string {
	addr = addr.Unmap()
	switch {
	case !addr.IsValid():
		return "an invalid address"
	case addr.IsUnspecified():
		return "an unspecified address"
	case addr.IsLoopback():
		return "a loopback address"
	case addr.IsPrivate():
		return "a private address"
	case addr.IsLinkLocalUnicast():
		return "a link-local address"
	case addr.IsMulticast(), addr.IsInterfaceLocalMulticast(), addr.IsLinkLocalMulticast():
		return "a multicast address"
	case addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "a broadcast address"
	}
	for _, r := range reserved {
		if r.prefix.Contains(addr) {
			return r.what
		}
	}
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64.Contains(addr):
			return Blocked(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixToFour.Contains(addr):
			return Blocked(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	return ""
}
