module github.com/picloud/picloud/bench

go 1.26.0

replace github.com/picloud/picloud => ../

require (
	github.com/dop251/goja v0.0.0-20260917113740-793a2a65c13b
	github.com/picloud/picloud v0.0.0-00010101000000-000000000000
	github.com/yuin/gopher-lua v1.1.2
	go.starlark.net v0.0.0-20260908191801-89a6a09411d5
	golang.org/x/exp v0.0.0-20261113113407-e3970619a1a4
	golang.org/x/sys v0.50.0
)

require (
	github.com/dlclark/regexp2/v2 v2.5.2 // indirect
	github.com/go-sourcemap/sourcemap v2.1.3+incompatible // indirect
	github.com/google/pprof v0.0.0-20230207041349-798e818bf904 // indirect
	golang.org/x/text v0.44.0 // indirect
)
