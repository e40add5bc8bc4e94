package manager

import (
	"net/http"
	"sync"

	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// Visibilities of a script: a public one answers on the data plane
// (/fn/{app}/{script}); a private one is only imported by the app's other
// scripts and run by its schedules, and the data plane answers 404 for
// it as for a script that does not exist.
const (
	visibilityPublic  = "public"
	visibilityPrivate = "private"
)

func visibilityName(private bool) string {
	if private {
		return visibilityPrivate
	}
	return visibilityPublic
}

// deployVisibility reads the visibility a deploy asks for (JSON
// "visibility" or ?visibility=; both, when given, must agree) into the
// store's terms. Without one, an existing script keeps its own and a new
// one is private when its source is a module (moduleSource), public
// otherwise.
func deployVisibility(r *http.Request, fromBody, source string) (store.Deploy, error) {
	v := r.URL.Query().Get("visibility")
	switch {
	case v == "":
		v = fromBody
	case fromBody != "" && fromBody != v:
		return store.Deploy{}, httpx.Invalid("the body's visibility %q and ?visibility=%s disagree", fromBody, v)
	}
	var d store.Deploy
	switch v {
	case "":
		d.NewPrivate = moduleSource(source)
	case visibilityPublic, visibilityPrivate:
		private := v == visibilityPrivate
		d.Private = &private
	default:
		return store.Deploy{}, httpx.Invalid("invalid visibility %q: use public or private", v)
	}
	return d, nil
}

// moduleEngine parses sources to tell modules from entry points; it runs
// nothing.
var moduleEngine = sync.OnceValue(func() *rhai.Engine {
	e := rhai.New()
	e.SetLimits(rhai.SandboxLimits())
	return e
})

// moduleSource reports whether a source is a shared module: functions
// with declarations around them (rhai's AST.OnlyDeclares), nothing that
// would make a response. Such a script answers every request with an
// empty 204 and exists to be imported, so it is private unless asked.
func moduleSource(source string) bool {
	ast, err := moduleEngine().Compile(source)
	return err == nil && ast.OnlyDeclares()
}
