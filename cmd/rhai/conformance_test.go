// Tests of the conformance decoder and comparator on hand-written cases.

package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/rhai"
	"github.com/picloud/picloud/rhai/syntax"
)

func TestConformanceDecode(t *testing.T) {
	src := `{"id": "a-1", "file": "tests/a.rs", "line": 3, "mode": "eval", "script": "40 + 2", "expect": {"int": 42}, "eval_type": "int"}

{"id": "a-2", "file": "tests/a.rs", "line": 4, "mode": "compile", "script": "[1][()]", "error": "ErrorParsing", "parse_error": "MalformedIndexExpr"}
{"id": "a-3", "file": "tests/a.rs", "line": 5, "mode": "eval", "script": "x", "expect": {"map": {"a": {"array": [{"float": 1.5}, {"char": "é"}, {"unit": null}]}, "b": {"blob": [0, 255]}}}, "eval_type": null, "tolerance": 0.001, "raw": true}
{"id": "a-4", "file": "tests/a.rs", "line": 6, "mode": "run", "script": "", "expect": {"any": null}}
{"id": "a-5", "file": "tests/a.rs", "line": 7, "mode": "eval", "script": "", "expect": {"int": 650777868590383874}}
`
	cases, err := decodeCases(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 5 {
		t.Fatalf("got %d cases, want 5", len(cases))
	}
	c := cases[0]
	if c.ID != "a-1" || c.File != "tests/a.rs" || c.Line != 3 || c.Mode != "eval" || c.Script != "40 + 2" ||
		c.EvalType != "int" || c.Want == nil || c.WantErr != "" {
		t.Errorf("case 1 decoded as %+v", c)
	}
	if got := c.Want.Value; got.Type() != rhai.TypeInt || got.AsInt() != 42 {
		t.Errorf("case 1 expect = %s", got.DebugString())
	}
	c = cases[1]
	if c.Want != nil || c.WantErr != "ErrorParsing" || c.ParseError != "MalformedIndexExpr" {
		t.Errorf("case 2 decoded as %+v", c)
	}
	c = cases[2]
	if !c.Raw || c.Tolerance != 0.001 || c.EvalType != "" {
		t.Errorf("case 3 decoded as %+v", c)
	}
	if got, want := c.Want.Value.DebugString(), `#{"a": [1.5, 'é', ()], "b": [00ff]}`; got != want {
		t.Errorf("case 3 expect = %s, want %s", got, want)
	}
	if !cases[3].Want.Any {
		t.Errorf("case 4: want any")
	}
	// Beyond float64's exact range: must be decoded exactly.
	if got := cases[4].Want.Value.AsInt(); got != 650777868590383874 {
		t.Errorf("case 5 expect = %d", got)
	}
}

func TestConformanceDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ line, msg string }{
		{`{"id": "x", "mode": "eval", "script": "1"}`, "exactly one of expect and error"},
		{`{"id": "x", "mode": "eval", "script": "1", "expect": {"int": 1}, "error": "any"}`, "exactly one"},
		{`{"id": "x", "mode": "evaluate", "script": "1", "error": "any"}`, "unknown mode"},
		{`{"id": "x", "mode": "eval", "error": "any"}`, "missing script"},
		{`{"mode": "eval", "script": "1", "error": "any"}`, "missing id"},
		{`{"id": "x", "mode": "eval", "script": "1", "expect": {"int": 1, "bool": true}}`, "exactly one tag"},
		{`{"id": "x", "mode": "eval", "script": "1", "expect": {"int": 1.5}}`, "int"},
		{`{"id": "x", "mode": "eval", "script": "1", "expect": {"char": "ab"}}`, "one character"},
		{`{"id": "x", "mode": "eval", "script": "1", "expect": {"blob": [256]}}`, "out of range"},
		{`{"id": "x", "mode": "eval", "script": "1", "expect": {"tuple": []}}`, "unknown tag"},
		{`{"id": "x", "mode": "eval", "script": "1", "expect": {"int": 1}, "eval_type": "i64"}`, "unknown eval_type"},
		{`{"id": "x", "mode": "eval", "script": "1", "expect": {"int": 1}, "colour": "red"}`, "unknown field"},
		{`{"id": "x", "mode": "eval", "script": "1", "error": "any"}` + "\n" + `{"id": "x", "mode": "eval", "script": "1", "error": "any"}`, "duplicate id"},
		{`{"id": "x", `, "line 1"},
	} {
		_, err := decodeCases(strings.NewReader(tc.line))
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("decode %s: error %v, want one containing %q", tc.line, err, tc.msg)
		}
	}
}

func arr(vs ...rhai.Value) rhai.Value { return rhai.NewArray(vs) }

func TestConformanceValuesEqual(t *testing.T) {
	m := func(kv ...any) rhai.Value {
		mm := map[string]rhai.Value{}
		for i := 0; i < len(kv); i += 2 {
			mm[kv[i].(string)] = kv[i+1].(rhai.Value)
		}
		return rhai.NewMap(mm)
	}
	for _, tc := range []struct {
		name      string
		want, got rhai.Value
		tol       float64
		equal     bool
	}{
		{"int", rhai.Int(42), rhai.Int(42), 0, true},
		{"int differs", rhai.Int(42), rhai.Int(43), 0, false},
		{"int vs float", rhai.Int(42), rhai.Float(42), 0, false},
		{"float vs int", rhai.Float(42), rhai.Int(42), 0, false},
		{"unit", rhai.Unit, rhai.Unit, 0, true},
		{"unit vs bool", rhai.Unit, rhai.Bool(false), 0, false},
		{"bool", rhai.Bool(true), rhai.Bool(true), 0, true},
		{"bool differs", rhai.Bool(true), rhai.Bool(false), 0, false},
		{"string", rhai.String("abc"), rhai.String("abc"), 0, true},
		{"string vs char", rhai.String("a"), rhai.Char('a'), 0, false},
		{"char", rhai.Char('é'), rhai.Char('é'), 0, true},
		{"char differs", rhai.Char('e'), rhai.Char('é'), 0, false},
		{"float exact", rhai.Float(2.5), rhai.Float(2.5), 0, true},
		{"float relative", rhai.Float(1e10), rhai.Float(1e10 + 1e-2), 0, true},
		{"float beyond relative", rhai.Float(1), rhai.Float(1 + 1e-8), 0, false},
		{"float zero is exact", rhai.Float(0), rhai.Float(1e-300), 0, false},
		{"float tolerance", rhai.Float(9.9999), rhai.Float(10), 0.001, true},
		{"float beyond tolerance", rhai.Float(9.99), rhai.Float(10), 0.001, false},
		{"float NaN", rhai.Float(nan()), rhai.Float(nan()), 0, true},
		{"array", arr(rhai.Int(1), rhai.String("x")), arr(rhai.Int(1), rhai.String("x")), 0, true},
		{"array length", arr(rhai.Int(1)), arr(rhai.Int(1), rhai.Int(2)), 0, false},
		{"array element", arr(rhai.Int(1), rhai.Int(2)), arr(rhai.Int(1), rhai.Int(3)), 0, false},
		{"array nested float", arr(arr(rhai.Float(0.1 + 0.2))), arr(arr(rhai.Float(0.3))), 0, true},
		{"map", m("a", rhai.Int(1), "b", rhai.Bool(true)), m("b", rhai.Bool(true), "a", rhai.Int(1)), 0, true},
		{"map missing key", m("a", rhai.Int(1), "b", rhai.Int(2)), m("a", rhai.Int(1)), 0, false},
		{"map extra key", m("a", rhai.Int(1)), m("a", rhai.Int(1), "b", rhai.Int(2)), 0, false},
		{"map other key", m("a", rhai.Int(1)), m("b", rhai.Int(1)), 0, false},
		{"map value", m("a", rhai.Int(1)), m("a", rhai.Int(2)), 0, false},
		{"empty map", m(), m(), 0, true},
		{"blob", rhai.NewBlob([]byte{1, 2, 255}), rhai.NewBlob([]byte{1, 2, 255}), 0, true},
		{"blob differs", rhai.NewBlob([]byte{1, 2}), rhai.NewBlob([]byte{1, 3}), 0, false},
		{"blob vs array", rhai.NewBlob([]byte{1}), arr(rhai.Int(1)), 0, false},
	} {
		if got := valuesEqual(tc.want, tc.got, tc.tol); got != tc.equal {
			t.Errorf("%s: valuesEqual(%s, %s) = %v", tc.name, tc.want.DebugString(), tc.got.DebugString(), got)
		}
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestConformanceJudge(t *testing.T) {
	parseErr := &rhai.EvalError{Kind: rhai.ErrorParsing, Msg: "bad index",
		Parse: &syntax.Error{Kind: "MalformedIndexExpr", Msg: "bad index"}}
	arith := rhai.NewError(rhai.ErrorArithmetic, "Division by zero")
	inFn := &rhai.EvalError{Kind: rhai.ErrorInFunctionCall, Fn: "foo",
		Inner: &rhai.EvalError{Kind: rhai.ErrorInFunctionCall, Fn: "bar", Inner: rhai.NewError(rhai.ErrorVariableNotFound, "x")}}
	wantInt := &Want{Value: rhai.Int(42)}
	for _, tc := range []struct {
		name  string
		c     Case
		got   rhai.Value
		err   error
		pass  bool
		fail  string // substring of the failure message
		kind  string // substring of the kind mismatch
		clean bool   // a pass with no kind mismatch
	}{
		{name: "value ok", c: Case{Mode: "eval", Want: wantInt, EvalType: "int"}, got: rhai.Int(42), pass: true, clean: true},
		{name: "value differs", c: Case{Mode: "eval", Want: wantInt}, got: rhai.Int(41),
			fail: "expected 42 (i64), got 41 (i64)"},
		{name: "value but error", c: Case{Mode: "eval", Want: wantInt}, err: arith,
			fail: "expected 42 (i64), got error ErrorArithmetic: Division by zero"},
		{name: "any success", c: Case{Mode: "run", Want: &Want{Any: true}}, got: rhai.String("whatever"), pass: true, clean: true},
		{name: "any but error", c: Case{Mode: "run", Want: &Want{Any: true}}, err: arith, fail: "expected success"},
		{name: "eval_type mismatch fails a value case", c: Case{Mode: "eval", Want: &Want{Value: rhai.Float(42)}, EvalType: "float"},
			got: rhai.Int(42), fail: "got error ErrorMismatchOutputType"},
		{name: "eval_type mismatch is the expected error", c: Case{Mode: "eval", WantErr: "ErrorMismatchOutputType", EvalType: "string"},
			got: rhai.Bool(true), pass: true, clean: true},
		{name: "eval_type dynamic", c: Case{Mode: "eval", WantErr: "any", EvalType: "dynamic"},
			got: rhai.Bool(true), fail: "expected an error, got true (bool)"},
		{name: "eval_type ignored by run", c: Case{Mode: "run", Want: &Want{Any: true}, EvalType: "int"},
			got: rhai.Bool(true), pass: true, clean: true},
		{name: "error expected, value got", c: Case{Mode: "eval", WantErr: "ErrorArithmetic"}, got: rhai.Int(1),
			fail: "expected error ErrorArithmetic, got 1 (i64)"},
		{name: "error any", c: Case{Mode: "eval", WantErr: "any"}, err: arith, pass: true, clean: true},
		{name: "error kind ok", c: Case{Mode: "eval", WantErr: "ErrorArithmetic"}, err: arith, pass: true, clean: true},
		{name: "error kind mismatch passes", c: Case{Mode: "eval", WantErr: "ErrorRuntime"}, err: arith, pass: true,
			kind: "expected ErrorRuntime, got ErrorArithmetic"},
		{name: "parse variant ok", c: Case{Mode: "compile", WantErr: "ErrorParsing", ParseError: "MalformedIndexExpr"},
			err: parseErr, pass: true, clean: true},
		{name: "parse variant mismatch", c: Case{Mode: "compile", WantErr: "ErrorParsing", ParseError: "MissingToken"},
			err: parseErr, pass: true, kind: "expected ErrorParsing/MissingToken, got ErrorParsing/MalformedIndexExpr"},
		{name: "lex variant", c: Case{Mode: "compile", WantErr: "ErrorParsing", ParseError: "BadInput", LexError: "MalformedChar"},
			err: &rhai.EvalError{Kind: rhai.ErrorParsing, Parse: &syntax.Error{Kind: "BadInput", LexKind: "MalformedChar"}}, pass: true, clean: true},
		{name: "inner kind at depth", c: Case{Mode: "run", WantErr: "ErrorInFunctionCall", InnerError: "ErrorVariableNotFound"},
			err: inFn, pass: true, clean: true},
		{name: "inner kind mismatch", c: Case{Mode: "run", WantErr: "ErrorInFunctionCall", InnerError: "ErrorArithmetic"},
			err: inFn, pass: true, kind: "expected ErrorInFunctionCall(ErrorArithmetic), got ErrorInFunctionCall(ErrorInFunctionCall)"},
		{name: "foreign error", c: Case{Mode: "eval", WantErr: "ErrorRuntime"}, err: errors.New("boom"), pass: true,
			kind: "non-Rhai error"},
	} {
		o := judge(&tc.c, tc.got, tc.err)
		if o.pass != tc.pass {
			t.Errorf("%s: pass = %v (%+v)", tc.name, o.pass, o)
			continue
		}
		if tc.fail != "" && !strings.Contains(o.fail, tc.fail) {
			t.Errorf("%s: failure %q, want it to contain %q", tc.name, o.fail, tc.fail)
		}
		if tc.kind != "" && !strings.Contains(o.kind, tc.kind) {
			t.Errorf("%s: kind note %q, want it to contain %q", tc.name, o.kind, tc.kind)
		}
		if tc.clean && (o.kind != "" || o.fail != "") {
			t.Errorf("%s: want a clean pass, got %+v", tc.name, o)
		}
	}
}

func TestConformanceReport(t *testing.T) {
	cases := []*Case{
		{ID: "b-1", File: "tests/b.rs"},
		{ID: "a-1", File: "tests/a.rs"},
		{ID: "a-2", File: "tests/a.rs"},
		{ID: "a-3", File: "tests/a.rs"},
	}
	results := []outcome{
		{pass: true},
		{fail: "expected 1 (i64), got 2 (i64)"},
		{pass: true, kind: "expected ErrorRuntime, got ErrorArithmetic"},
		{pass: true},
	}
	var out bytes.Buffer
	passed, failed := report(&out, cases, results, false)
	if passed != 3 || failed != 1 {
		t.Errorf("totals %d passed %d failed, want 3 and 1", passed, failed)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"FAIL a-1: expected 1 (i64), got 2 (i64)",
		"KIND a-2: expected ErrorRuntime, got ErrorArithmetic",
		"tests/a.rs:",
		"tests/b.rs:",
	}
	if len(lines) != len(want) {
		t.Fatalf("report:\n%s", out.String())
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], want[i])
		}
	}
	if !strings.Contains(lines[2], "2 passed") || !strings.Contains(lines[2], "1 failed") {
		t.Errorf("tally line %q", lines[2])
	}
}

func TestConformanceRunCaseSurvives(t *testing.T) {
	defer func(orig func(context.Context, *Case, time.Duration) outcome) { evaluateCase = orig }(evaluateCase)
	defer func(orig time.Duration) { abandonAfter = orig }(abandonAfter)
	abandonAfter = 10 * time.Millisecond
	c := &Case{ID: "x-1", Mode: "eval", Want: &Want{Any: true}}

	evaluateCase = func(context.Context, *Case, time.Duration) outcome { panic("engine bug") }
	if o := runCase(c, time.Second, false, &bytes.Buffer{}); o.pass || !strings.Contains(o.fail, "panic: engine bug") {
		t.Errorf("panicking case: %+v", o)
	}

	// An evaluation that ignores its context is abandoned after the timer.
	release := make(chan struct{})
	defer close(release)
	evaluateCase = func(context.Context, *Case, time.Duration) outcome { <-release; return outcome{pass: true} }
	if o := runCase(c, time.Millisecond, false, &bytes.Buffer{}); o.pass || !strings.Contains(o.fail, "timed out") {
		t.Errorf("stuck case: %+v", o)
	}
}
