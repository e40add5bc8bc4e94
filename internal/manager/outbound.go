package manager

import (
	"github.com/picloud/picloud/internal/egress"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// outboundView is an app's outbound HTTP policy in the API: the public
// hosts its scripts may call, which its editors manage, and the private
// hosts, addresses and prefixes they may reach, which only administrators
// name.
type outboundView struct {
	Allow   []string `json:"allow"`
	Private []string `json:"private"`
}

func toOutbound(o store.AppOutbound) outboundView {
	return outboundView{Allow: orEmpty(o.Allow), Private: orEmpty(o.Private)}
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// outboundUpdate changes an app's outbound policy in PATCH
// /api/v1/apps/{slug}: allow, when given, replaces the allow-list of
// public hosts; private, when given, replaces the private list and may
// only come from an administrator, because it lets scripts into the
// server's own network. An empty list clears it. AllowPrivate is the
// setting the private list replaced: it is refused with a pointer to it.
type outboundUpdate struct {
	Allow        *[]string `json:"allow"`
	Private      *[]string `json:"private"`
	AllowPrivate *bool     `json:"allow_private"`
}

func updateOutbound(o *store.AppOutbound, u outboundUpdate, c *caller) error {
	if u.AllowPrivate != nil {
		return httpx.Invalid("outbound.allow_private is gone: an administrator names the private hosts, addresses and CIDR prefixes an app may reach in outbound.private")
	}
	if u.Private != nil {
		if !c.admin() {
			return httpx.Forbidden("only administrators may set outbound.private: it lets scripts reach private addresses")
		}
		private, err := egress.NormalizePrivate(*u.Private)
		if err != nil {
			return httpx.Invalid("outbound.private: %v", err)
		}
		o.Private = nonEmpty(private)
	}
	if u.Allow != nil {
		allow, err := egress.NormalizePublic(*u.Allow)
		if err != nil {
			return httpx.Invalid("outbound.allow: %v", err)
		}
		o.Allow = nonEmpty(allow)
	}
	return nil
}

// nonEmpty stores an empty list as none.
func nonEmpty(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}
