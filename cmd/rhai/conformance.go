// The conformance command: runs a JSON Lines file of script-level cases taken
// from upstream Rhai's test suite (format: shared/rhai-conformance/README.md)
// and reports every case the engine gets wrong.

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/picloud/picloud/rhai"
)

// Case is one conformance case.
type Case struct {
	ID     string
	File   string // upstream test file, e.g. tests/arrays.rs
	Line   int
	Mode   string // eval, expression, run, compile, compile_expression
	Script string
	Raw    bool // run on rhai.NewRaw()

	// Want is set when the case must succeed.
	Want *Want
	// WantErr is set when the case must fail: a Rhai error kind, or "any".
	WantErr    string
	ParseError string // ParseErrorType variant, with WantErr "ErrorParsing"
	LexError   string // LexError variant, with ParseError "BadInput"
	InnerError string // kind wrapped by ErrorInFunctionCall and the like

	// EvalType is the result type a typed evaluation asked for ("" = none,
	// "dynamic" = any type).
	EvalType string
	// Tolerance is the absolute tolerance for floats; 0 means the default
	// relative tolerance.
	Tolerance float64
}

// Want is an expected value; Any means only success is checked.
type Want struct {
	Any   bool
	Value rhai.Value
}

// caseJSON mirrors the JSON form of a case.
type caseJSON struct {
	ID         string          `json:"id"`
	File       string          `json:"file"`
	Line       int             `json:"line"`
	Mode       string          `json:"mode"`
	Script     *string         `json:"script"`
	Expect     json.RawMessage `json:"expect"`
	Error      *string         `json:"error"`
	ParseError string          `json:"parse_error"`
	LexError   string          `json:"lex_error"`
	InnerError string          `json:"inner_error"`
	EvalType   *string         `json:"eval_type"`
	Tolerance  *float64        `json:"tolerance"`
	Raw        bool            `json:"raw"`
}

var validModes = map[string]bool{
	"eval": true, "expression": true, "run": true, "compile": true, "compile_expression": true,
}

// decodeCases reads a conformance file: one JSON object per line, blank lines
// ignored. Errors name the offending line.
func decodeCases(r io.Reader) ([]*Case, error) {
	var cases []*Case
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		c, err := decodeCase(line)
		if err != nil {
			return nil, fmt.Errorf("conformance: line %d: %w", n, err)
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("conformance: line %d: duplicate id %q", n, c.ID)
		}
		seen[c.ID] = true
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	return cases, nil
}

func decodeCase(line []byte) (*Case, error) {
	var j caseJSON
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, err
	}
	switch {
	case j.ID == "":
		return nil, errors.New("missing id")
	case j.Script == nil:
		return nil, fmt.Errorf("%s: missing script", j.ID)
	case !validModes[j.Mode]:
		return nil, fmt.Errorf("%s: unknown mode %q", j.ID, j.Mode)
	case (j.Expect == nil) == (j.Error == nil):
		return nil, fmt.Errorf("%s: need exactly one of expect and error", j.ID)
	}
	c := &Case{
		ID: j.ID, File: j.File, Line: j.Line, Mode: j.Mode, Script: *j.Script, Raw: j.Raw,
		ParseError: j.ParseError, LexError: j.LexError, InnerError: j.InnerError,
	}
	if j.EvalType != nil {
		c.EvalType = *j.EvalType
		if _, ok := evalTypes[c.EvalType]; !ok {
			return nil, fmt.Errorf("%s: unknown eval_type %q", j.ID, c.EvalType)
		}
	}
	if j.Tolerance != nil {
		c.Tolerance = *j.Tolerance
	}
	if j.Error != nil {
		c.WantErr = *j.Error
		if c.WantErr == "" {
			return nil, fmt.Errorf("%s: empty error", j.ID)
		}
		return c, nil
	}
	w, err := decodeTagged(j.Expect)
	if err != nil {
		return nil, fmt.Errorf("%s: expect: %w", j.ID, err)
	}
	c.Want = &w
	return c, nil
}

// decodeTagged decodes a tagged value such as {"int": 42} or
// {"array": [{"int": 1}]}. Integers are decoded exactly, not through float64.
func decodeTagged(raw json.RawMessage) (Want, error) {
	var tagged map[string]json.RawMessage
	if err := json.Unmarshal(raw, &tagged); err != nil {
		return Want{}, err
	}
	if len(tagged) != 1 {
		return Want{}, fmt.Errorf("tagged value needs exactly one tag, got %d", len(tagged))
	}
	var tag string
	var body json.RawMessage
	for tag, body = range tagged { // the one entry
	}
	v, err := decodeBody(tag, body)
	if err != nil {
		return Want{}, fmt.Errorf("%s: %w", tag, err)
	}
	return v, nil
}

func decodeBody(tag string, body json.RawMessage) (Want, error) {
	number := func() (json.Number, error) {
		var n json.Number
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		err := dec.Decode(&n)
		return n, err
	}
	switch tag {
	case "any":
		return Want{Any: true}, nil
	case "unit":
		if s := string(bytes.TrimSpace(body)); s != "null" {
			return Want{}, fmt.Errorf("want null, got %s", s)
		}
		return Want{Value: rhai.Unit}, nil
	case "int":
		n, err := number()
		if err != nil {
			return Want{}, err
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			return Want{}, err
		}
		return Want{Value: rhai.Int(i)}, nil
	case "float":
		n, err := number()
		if err != nil {
			return Want{}, err
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil {
			return Want{}, err
		}
		return Want{Value: rhai.Float(f)}, nil
	case "bool":
		var b bool
		if err := json.Unmarshal(body, &b); err != nil {
			return Want{}, err
		}
		return Want{Value: rhai.Bool(b)}, nil
	case "string":
		var s string
		if err := json.Unmarshal(body, &s); err != nil {
			return Want{}, err
		}
		return Want{Value: rhai.String(s)}, nil
	case "char":
		var s string
		if err := json.Unmarshal(body, &s); err != nil {
			return Want{}, err
		}
		r, size := utf8.DecodeRuneInString(s)
		if size == 0 || size != len(s) || r == utf8.RuneError {
			return Want{}, fmt.Errorf("want one character, got %q", s)
		}
		return Want{Value: rhai.Char(r)}, nil
	case "array":
		var elems []json.RawMessage
		if err := json.Unmarshal(body, &elems); err != nil {
			return Want{}, err
		}
		vals := make([]rhai.Value, len(elems))
		for i, e := range elems {
			w, err := decodeTagged(e)
			if err != nil {
				return Want{}, fmt.Errorf("[%d]: %w", i, err)
			}
			if w.Any {
				return Want{}, fmt.Errorf("[%d]: any is not allowed inside a value", i)
			}
			vals[i] = w.Value
		}
		return Want{Value: rhai.NewArray(vals)}, nil
	case "map":
		var props map[string]json.RawMessage
		if err := json.Unmarshal(body, &props); err != nil {
			return Want{}, err
		}
		m := make(map[string]rhai.Value, len(props))
		for k, e := range props {
			w, err := decodeTagged(e)
			if err != nil {
				return Want{}, fmt.Errorf("%q: %w", k, err)
			}
			if w.Any {
				return Want{}, fmt.Errorf("%q: any is not allowed inside a value", k)
			}
			m[k] = w.Value
		}
		return Want{Value: rhai.NewMap(m)}, nil
	case "blob":
		var ints []int
		if err := json.Unmarshal(body, &ints); err != nil {
			return Want{}, err
		}
		b := make([]byte, len(ints))
		for i, n := range ints {
			if n < 0 || n > 255 {
				return Want{}, fmt.Errorf("[%d]: byte %d out of range", i, n)
			}
			b[i] = byte(n)
		}
		return Want{Value: rhai.NewBlob(b)}, nil
	}
	return Want{}, fmt.Errorf("unknown tag")
}

// evalTypes maps an eval_type to the value type it demands; TypeAny for
// "dynamic".
var evalTypes = map[string]rhai.Type{
	"int": rhai.TypeInt, "float": rhai.TypeFloat, "bool": rhai.TypeBool,
	"string": rhai.TypeString, "char": rhai.TypeChar, "unit": rhai.TypeUnit,
	"array": rhai.TypeArray, "map": rhai.TypeMap, "blob": rhai.TypeBlob,
	"dynamic": rhai.TypeAny,
}

// valuesEqual compares an actual value with an expected one by the rules of
// the conformance README: same type; floats within tolerance (absolute when
// tol > 0, else relative 1e-9); arrays pairwise; maps by key set and per key;
// blobs bytewise.
func valuesEqual(want, got rhai.Value, tol float64) bool {
	want, got = want.Flatten(), got.Flatten()
	if want.Type() != got.Type() {
		return false
	}
	switch want.Type() {
	case rhai.TypeUnit:
		return true
	case rhai.TypeBool:
		return want.AsBool() == got.AsBool()
	case rhai.TypeInt:
		return want.AsInt() == got.AsInt()
	case rhai.TypeChar:
		return want.AsChar() == got.AsChar()
	case rhai.TypeString:
		return want.AsString() == got.AsString()
	case rhai.TypeFloat:
		return floatsClose(want.AsFloat(), got.AsFloat(), tol)
	case rhai.TypeArray:
		w, g := want.AsArray().Elems, got.AsArray().Elems
		if len(w) != len(g) {
			return false
		}
		for i := range w {
			if !valuesEqual(w[i], g[i], tol) {
				return false
			}
		}
		return true
	case rhai.TypeMap:
		w, g := want.AsMap().M, got.AsMap().M
		if len(w) != len(g) {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !valuesEqual(wv, gv, tol) {
				return false
			}
		}
		return true
	case rhai.TypeBlob:
		return bytes.Equal(want.AsBlob().B, got.AsBlob().B)
	}
	// Other types never appear in conformance files; compare their renderings.
	return want.DebugString() == got.DebugString()
}

func floatsClose(want, got, tol float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	if want == got { // also equal infinities
		return true
	}
	if tol > 0 {
		return math.Abs(got-want) <= tol
	}
	return math.Abs(got-want) <= 1e-9*math.Max(math.Abs(got), math.Abs(want))
}

// outcome is the verdict on one case.
type outcome struct {
	pass bool
	// fail explains a failure: "expected X, got Y".
	fail string
	// kind explains a passing error case whose error kind differs.
	kind string
}

// judge decides a case from the value or error it produced.
func judge(c *Case, got rhai.Value, err error) outcome {
	if err == nil && c.EvalType != "" && (c.Mode == "eval" || c.Mode == "expression") {
		if t := evalTypes[c.EvalType]; t != rhai.TypeAny && got.Flatten().Type() != t {
			// Rhai's typed eval turns a value of the wrong type into an error.
			err = &rhai.EvalError{
				Kind: rhai.ErrorMismatchOutputType,
				Msg:  fmt.Sprintf("output type is %s, not %s: %s", got.TypeName(), c.EvalType, clip(got.DebugString())),
			}
		}
	}
	if c.Want != nil {
		switch {
		case err != nil:
			return outcome{fail: fmt.Sprintf("expected %s, got %s", describeWant(c), describeErr(err))}
		case c.Want.Any, valuesEqual(c.Want.Value, got, c.Tolerance):
			return outcome{pass: true}
		}
		return outcome{fail: fmt.Sprintf("expected %s, got %s", describeWant(c), describeValue(got))}
	}
	if err == nil {
		return outcome{fail: fmt.Sprintf("expected %s, got %s", describeWant(c), describeValue(got))}
	}
	if c.WantErr == "any" {
		return outcome{pass: true}
	}
	if want, have := wantKind(c), errKind(c, err); want != have {
		return outcome{pass: true, kind: fmt.Sprintf("expected %s, got %s", want, have)}
	}
	return outcome{pass: true}
}

// wantKind renders the expected error kind: Kind[/ParseError[/LexError]]
// or Kind(Inner).
func wantKind(c *Case) string {
	s := c.WantErr
	if c.ParseError != "" {
		s += "/" + c.ParseError
		if c.LexError != "" {
			s += "/" + c.LexError
		}
	}
	if c.InnerError != "" {
		s += "(" + c.InnerError + ")"
	}
	return s
}

// errKind renders err in the shape of wantKind, with only the details the
// case asks about.
func errKind(c *Case, err error) string {
	var ee *rhai.EvalError
	if !errors.As(err, &ee) {
		return fmt.Sprintf("non-Rhai error %T", err)
	}
	s := string(ee.Kind)
	if c.ParseError != "" {
		if ee.Parse == nil {
			s += "/?"
		} else {
			s += "/" + ee.Parse.Kind
			if c.LexError != "" {
				s += "/" + ee.Parse.LexKind
			}
		}
	}
	if c.InnerError != "" {
		inner := "?"
		if ee.Inner != nil {
			inner = string(ee.Inner.Kind)
			// Nested calls wrap several times; accept the kind at any depth.
			for e := ee.Inner; e != nil; e = e.Inner {
				if string(e.Kind) == c.InnerError {
					inner = c.InnerError
					break
				}
			}
		}
		s += "(" + inner + ")"
	}
	return s
}

func describeWant(c *Case) string {
	switch {
	case c.Want == nil && c.WantErr == "any":
		return "an error"
	case c.Want == nil:
		return "error " + wantKind(c)
	case c.Want.Any:
		return "success"
	}
	return describeValue(c.Want.Value)
}

func describeValue(v rhai.Value) string {
	v = v.Flatten()
	return clip(v.DebugString()) + " (" + v.TypeName() + ")"
}

func describeErr(err error) string {
	var ee *rhai.EvalError
	if !errors.As(err, &ee) {
		return "error: " + clip(err.Error())
	}
	kind := string(ee.Kind)
	if ee.Parse != nil && ee.Parse.Kind != "" {
		kind += "/" + ee.Parse.Kind
	}
	return "error " + kind + ": " + clip(ee.Error())
}

// clip keeps report lines readable: one line, at most 200 characters.
func clip(s string) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}

// evaluate runs one case on a fresh engine and judges it. The caller bounds
// the time it takes and recovers panics.
func evaluate(ctx context.Context, c *Case, timeout time.Duration) outcome {
	e := rhai.New()
	if c.Raw {
		e = rhai.NewRaw()
	}
	var ast *rhai.AST
	var err error
	if c.Mode == "expression" || c.Mode == "compile_expression" {
		ast, err = e.CompileExpression(c.Script)
	} else {
		ast, err = e.Compile(c.Script)
	}
	got := rhai.Unit
	if err == nil && c.Mode != "compile" && c.Mode != "compile_expression" {
		got, err = e.Run(ast, rhai.RunOptions{Context: ctx})
	}
	if ctx.Err() != nil {
		// A script cut short by the deadline proves nothing, not even an
		// expected error.
		return outcome{fail: fmt.Sprintf("timed out after %v", timeout)}
	}
	return judge(c, got, err)
}

// evaluateCase is the evaluation runCase performs; tests replace it.
var evaluateCase = evaluate

// abandonAfter is how long past its deadline runCase waits for an evaluation
// that ignores its context before giving up on it.
var abandonAfter = time.Second

// runCase evaluates a case in its own goroutine under a time limit, turning
// a panic or a hang into that case's failure.
func runCase(c *Case, timeout time.Duration, verbose bool, stderr io.Writer) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan outcome, 1)
	eval := evaluateCase
	go func() {
		defer func() {
			if r := recover(); r != nil {
				if verbose {
					fmt.Fprintf(stderr, "panic in %s: %v\n%s\n", c.ID, r, debug.Stack())
				}
				done <- outcome{fail: clip(fmt.Sprintf("panic: %v", r))}
			}
		}()
		done <- eval(ctx, c, timeout)
	}()
	// The context stops a cooperative evaluator; the timer catches one that
	// never looks at it. A goroutine stuck that way is abandoned.
	timer := time.NewTimer(timeout + abandonAfter)
	defer timer.Stop()
	select {
	case o := <-done:
		return o
	case <-timer.C:
		return outcome{fail: fmt.Sprintf("timed out after %v (evaluation did not stop)", timeout)}
	}
}

// conformance is the command: flags, then one file.
func conformance(args []string, st streams) int {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(st.err)
	minPass := fs.String("min-pass", "", "exit 1 unless at least this `PERCENT` of cases pass")
	timeout := fs.Duration("timeout", 5*time.Second, "time limit per case")
	filter := fs.String("run", "", "only run cases whose id matches this `regexp`")
	verbose := fs.Bool("v", false, "also list passing cases, and stacks of panics")
	jobs := fs.Int("j", runtime.GOMAXPROCS(0), "cases run in parallel")
	fs.Usage = func() {
		fmt.Fprintln(st.err, "usage: rhai conformance [flags] FILE.jsonl")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 || *jobs < 1 {
		fs.Usage()
		return exitUsage
	}
	threshold := -1.0
	if *minPass != "" {
		p, err := strconv.ParseFloat(strings.TrimSuffix(*minPass, "%"), 64)
		if err != nil || p < 0 || p > 100 {
			fmt.Fprintf(st.err, "rhai conformance: -min-pass wants a percentage, got %q\n", *minPass)
			return exitUsage
		}
		threshold = p
	}
	var re *regexp.Regexp
	if *filter != "" {
		var err error
		if re, err = regexp.Compile(*filter); err != nil {
			fmt.Fprintf(st.err, "rhai conformance: -run: %v\n", err)
			return exitUsage
		}
	}

	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(st.err, "rhai conformance: %v\n", err)
		return exitFail
	}
	cases, err := decodeCases(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(st.err, "rhai conformance: %s: %v\n", fs.Arg(0), err)
		return exitFail
	}
	if re != nil {
		cases = slices.DeleteFunc(cases, func(c *Case) bool { return !re.MatchString(c.ID) })
	}

	results := make([]outcome, len(cases))
	var wg sync.WaitGroup
	next := make(chan int)
	for range *jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = runCase(cases[i], *timeout, *verbose, st.err)
			}
		}()
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()

	passed, failed := report(st.out, cases, results, *verbose)
	fmt.Fprintf(st.out, "conformance: %d passed, %d failed\n", passed, failed)
	if threshold >= 0 {
		rate := 0.0
		if total := passed + failed; total > 0 {
			rate = 100 * float64(passed) / float64(total)
		}
		if rate < threshold {
			fmt.Fprintf(st.err, "rhai conformance: pass rate %.1f%% is below -min-pass %g%%\n", rate, threshold)
			return exitFail
		}
	}
	return exitOK
}

// report prints the failures and kind mismatches in file order, then a tally
// per upstream file. It returns the totals.
func report(w io.Writer, cases []*Case, results []outcome, verbose bool) (passed, failed int) {
	type tally struct{ pass, fail, kind int }
	perFile := map[string]*tally{}
	var files []string
	for i, c := range cases {
		o := results[i]
		t := perFile[c.File]
		if t == nil {
			t = &tally{}
			perFile[c.File] = t
			files = append(files, c.File)
		}
		switch {
		case !o.pass:
			failed++
			t.fail++
			fmt.Fprintf(w, "FAIL %s: %s\n", c.ID, o.fail)
		case o.kind != "":
			passed++
			t.pass++
			t.kind++
			fmt.Fprintf(w, "KIND %s: %s\n", c.ID, o.kind)
		default:
			passed++
			t.pass++
			if verbose {
				fmt.Fprintf(w, "ok   %s\n", c.ID)
			}
		}
	}
	slices.Sort(files)
	for _, f := range files {
		t := perFile[f]
		name := f
		if name == "" {
			name = "(no file)"
		}
		fmt.Fprintf(w, "%-32s %4d passed %4d failed %4d kind mismatches\n", name+":", t.pass, t.fail, t.kind)
	}
	return passed, failed
}
