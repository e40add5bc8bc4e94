package manager

import (
	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/egress"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

func toOutbound(o store.AppOutbound) api.Outbound {
	return api.Outbound{Allow: orEmpty(o.Allow), Private: orEmpty(o.Private)}
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func updateOutbound(o *store.AppOutbound, u api.OutboundUpdate, c *caller) error {
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
