package manager

import (
	"github.com/picloud/picloud/internal/egress"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// outboundView is an app's outbound HTTP policy in the API: the hosts its
// scripts may call, and whether they may reach private addresses.
type outboundView struct {
	Allow        []string `json:"allow"`
	AllowPrivate bool     `json:"allow_private"`
}

func toOutbound(o store.AppOutbound) outboundView {
	allow := o.Allow
	if allow == nil {
		allow = []string{}
	}
	return outboundView{Allow: allow, AllowPrivate: o.AllowPrivate}
}

// outboundUpdate changes an app's outbound policy in PATCH
// /api/v1/apps/{slug}: allow, when given, replaces the allow-list (an
// empty list turns outbound HTTP off); allow_private, when given, may only
// come from an administrator, because it lets scripts into the server's
// own network.
type outboundUpdate struct {
	Allow        *[]string `json:"allow"`
	AllowPrivate *bool     `json:"allow_private"`
}

func updateOutbound(o *store.AppOutbound, u outboundUpdate, c *caller) error {
	if u.AllowPrivate != nil {
		if !c.admin() {
			return httpx.Forbidden("only administrators may set outbound.allow_private: it lets scripts reach private addresses")
		}
		o.AllowPrivate = *u.AllowPrivate
	}
	if u.Allow != nil {
		allow, err := egress.Normalize(*u.Allow)
		if err != nil {
			return httpx.Invalid("outbound.allow: %v", err)
		}
		o.Allow = allow
		if len(allow) == 0 {
			o.Allow = nil
		}
	}
	return nil
}
