package manager

import (
	"context"
	"reflect"
	"testing"

	"github.com/picloud/picloud/internal/store"
)

// outboundStored checks the outbound policy stored for app demo.
func outboundStored(want store.AppOutbound) func(*testing.T, *env, response) {
	return func(t *testing.T, e *env, _ response) {
		t.Helper()
		a, err := e.st.GetApp(context.Background(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a.Outbound, want) {
			t.Fatalf("stored outbound %+v, want %+v", a.Outbound, want)
		}
	}
}

// setOutbound stores a policy for app demo before a scenario.
func setOutbound(o store.AppOutbound) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		t.Helper()
		a, err := e.st.GetApp(context.Background(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		a.Outbound = o
		if err := e.st.UpdateApp(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOutboundScenarios(t *testing.T) {
	private := store.AppOutbound{Allow: []string{"api.github.com"}, Private: []string{"10.0.0.7", "db.internal:5432"}}
	runScenarios(t, []scenario{
		{name: "shown off by default", method: "GET", url: "/api/v1/apps/demo", as: asViewer, status: 200,
			contains: []string{`"outbound":{"allow":[],"private":[]}`}},
		{name: "editor sets the allow-list", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			body:     `{"outbound": {"allow": ["API.GitHub.com", "*.stripe.com", "hooks.example.com:8443", "api.github.com."]}}`,
			status:   200,
			contains: []string{`"outbound":{"allow":["api.github.com","*.stripe.com","hooks.example.com:8443"],"private":[]}`},
			check: func(t *testing.T, e *env, res response) {
				outboundStored(store.AppOutbound{Allow: []string{"api.github.com", "*.stripe.com", "hooks.example.com:8443"}})(t, e, res)
				wantEvents(t, e, "app_changed demo") // the data plane drops its cached policy
			}},
		{name: "editor's API key sets the allow-list", method: "PATCH", url: "/api/v1/apps/demo", as: asEditorKey,
			body: `{"outbound": {"allow": ["api.github.com"]}}`, status: 200,
			check: outboundStored(store.AppOutbound{Allow: []string{"api.github.com"}})},
		{name: "an empty list turns it off", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			before: setOutbound(store.AppOutbound{Allow: []string{"api.github.com"}}),
			body:   `{"outbound": {"allow": []}}`, status: 200,
			contains: []string{`"outbound":{"allow":[],"private":[]}`},
			check:    outboundStored(store.AppOutbound{})},
		{name: "other fields keep the policy", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			before: setOutbound(private), body: `{"name": "Demo"}`, status: 200,
			contains: []string{`"outbound":{"allow":["api.github.com"],"private":["10.0.0.7","db.internal:5432"]}`},
			check:    outboundStored(private)},
		{name: "editor changes the allow-list, the private list stays", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			before: setOutbound(private), body: `{"outbound": {"allow": ["hooks.example.com"]}}`, status: 200,
			check: outboundStored(store.AppOutbound{Allow: []string{"hooks.example.com"}, Private: private.Private})},
		{name: "admin names private targets", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"outbound": {"private": ["10.0.0.7", "10.1.0.0/16", "DB.internal:5432", "10.0.0.7"]}}`, status: 200,
			contains: []string{`"outbound":{"allow":[],"private":["10.0.0.7","10.1.0.0/16","db.internal:5432"]}`},
			check:    outboundStored(store.AppOutbound{Private: []string{"10.0.0.7", "10.1.0.0/16", "db.internal:5432"}})},
		{name: "admin clears the private list", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			before: setOutbound(private), body: `{"outbound": {"private": []}}`, status: 200,
			check: outboundStored(store.AppOutbound{Allow: []string{"api.github.com"}})},
		{name: "admin: a bad prefix", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"outbound": {"private": ["10.0.0.0/33"]}}`, status: 422,
			contains: []string{`outbound.private: \"10.0.0.0/33\": not a CIDR prefix`}, check: outboundStored(store.AppOutbound{})},
		// The attack: with private addresses allowed, editors chose which.
		{name: "editor may not name private targets", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			before: setOutbound(private), body: `{"outbound": {"private": ["127.0.0.1"]}}`, status: 403,
			contains: []string{`"code":"forbidden"`, "only administrators may set outbound.private"},
			check:    outboundStored(private)},
		{name: "editor's API key may not name private targets", method: "PATCH", url: "/api/v1/apps/demo", as: asEditorKey,
			body: `{"outbound": {"private": ["10.0.0.0/8"]}}`, status: 403, check: outboundStored(store.AppOutbound{})},
		{name: "editor may not clear them either", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			before: setOutbound(private), body: `{"outbound": {"private": []}}`, status: 403,
			check: outboundStored(private)},
		{name: "a private address on the editors' list", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			before: setOutbound(private), body: `{"outbound": {"allow": ["api.github.com", "127.0.0.1:8080"]}}`, status: 422,
			contains: []string{`outbound.allow: \"127.0.0.1:8080\" is a loopback address; private addresses are reachable only when an administrator names them`},
			check:    outboundStored(private)},
		{name: "a metadata address on the editors' list", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"outbound": {"allow": ["169.254.169.254"]}}`, status: 422, check: outboundStored(store.AppOutbound{})},
		{name: "a prefix on the editors' list", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			body: `{"outbound": {"allow": ["10.0.0.0/8"]}}`, status: 422, check: outboundStored(store.AppOutbound{})},
		{name: "allow_private is gone", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"outbound": {"allow": ["10.0.0.7"], "allow_private": true}}`, status: 422,
			contains: []string{"outbound.allow_private is gone", "outbound.private"}, check: outboundStored(store.AppOutbound{})},
		{name: "viewer may not set the allow-list", method: "PATCH", url: "/api/v1/apps/demo", as: asViewer,
			body: `{"outbound": {"allow": ["api.github.com"]}}`, status: 403, check: outboundStored(store.AppOutbound{})},
		{name: "outsider may not set the allow-list", method: "PATCH", url: "/api/v1/apps/demo", as: asOutsider,
			body: `{"outbound": {"allow": ["api.github.com"]}}`, status: 403, check: outboundStored(store.AppOutbound{})},
		{name: "anonymous", method: "PATCH", url: "/api/v1/apps/demo",
			body: `{"outbound": {"allow": ["api.github.com"]}}`, status: 401, check: outboundStored(store.AppOutbound{})},
		{name: "a URL is not a host", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			body: `{"outbound": {"allow": ["api.github.com", "https://evil.com/x"]}}`, status: 422,
			contains: []string{`"code":"invalid"`, `outbound.allow: \"https://evil.com/x\": give a host name, not a URL`},
			check:    outboundStored(store.AppOutbound{})},
		{name: "a bare wildcard", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			body: `{"outbound": {"allow": ["*"]}}`, status: 422, check: outboundStored(store.AppOutbound{})},
		{name: "a bad port", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			body: `{"outbound": {"allow": ["api.github.com:99999"]}}`, status: 422, check: outboundStored(store.AppOutbound{})},
		{name: "not a list", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			body: `{"outbound": {"allow": "api.github.com"}}`, status: 400, check: outboundStored(store.AppOutbound{})},
		{name: "unknown field", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			body: `{"outbound": {"hosts": ["api.github.com"]}}`, status: 400, check: outboundStored(store.AppOutbound{})},
	})
}
