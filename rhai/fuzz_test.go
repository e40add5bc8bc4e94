// A fuzz target over compile + run with tight limits. The property under
// test is robustness, not correctness: whatever the input, the engine must
// not panic (also not a panic that Run recovers into an "internal error"),
// must not hang, and every failure must be an *rhai.EvalError of a known
// kind. Limits are deliberately small so that hostile scripts (infinite
// loops, recursion bombs, exponential data growth) hit them quickly.
//
// Seeds come from three places: the inline list below (one per syntax
// feature, plus hostile scripts), every chunk of testdata/*.rhai, and the
// corpus in testdata/fuzz/FuzzCompileRun, where the fuzzer also stores any
// crasher it finds so that it becomes a regression test.
//
// Fuzz with:
//
//	go test ./rhai -run XXX -fuzz FuzzCompileRun -fuzztime 10m
package rhai_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/rhai"
)

// fuzzMaxInput bounds the inputs worth running: bigger ones only slow the
// fuzzer down without reaching new code.
const fuzzMaxInput = 4 << 10

// fuzzHangAfter is how long one compile + run + formatting may take before
// it counts as a hang. The context deadline is 1s, so a well-behaved engine
// returns long before this.
const fuzzHangAfter = 2 * time.Second

// fuzzLimits are the tight limits of every fuzzed evaluation.
var fuzzLimits = rhai.Limits{
	MaxOperations:  20_000,
	MaxCallDepth:   32,
	MaxExprDepth:   64,
	MaxFnExprDepth: 32,
	MaxStringLen:   10_000,
	MaxArrayLen:    1_000,
	MaxMapSize:     1_000,
	MaxBlobLen:     10_000,
	MaxVariables:   200,
	MaxModules:     4,
	MaxMemory:      200_000,
}

// fuzzSizes adds a property: the script's result must respect the size
// limits, counted in depth as the engine counts them. It is opt-in while
// native functions that build new containers (to_chars, split, to_array...)
// are not yet checked on return:
//
//	go test ./rhai -run XXX -fuzz FuzzCompileRun -rhai.fuzzsizes
var fuzzSizes = flag.Bool("rhai.fuzzsizes", false, "FuzzCompileRun: also check result sizes against the limits")

// fuzzKnownKinds is every error kind the engine may report.
var fuzzKnownKinds = map[rhai.ErrorKind]bool{
	rhai.ErrorParsing: true, rhai.ErrorRuntime: true, rhai.ErrorArithmetic: true,
	rhai.ErrorIndexNotFound: true, rhai.ErrorPropertyNotFound: true,
	rhai.ErrorArrayBounds: true, rhai.ErrorStringBounds: true,
	rhai.ErrorBitFieldBounds: true, rhai.ErrorFunctionNotFound: true,
	rhai.ErrorInFunctionCall: true, rhai.ErrorInModule: true,
	rhai.ErrorModuleNotFound: true, rhai.ErrorVariableNotFound: true,
	rhai.ErrorVariableExists: true, rhai.ErrorForbiddenVariable: true,
	rhai.ErrorAssignmentToConstant: true, rhai.ErrorMismatchDataType: true,
	rhai.ErrorMismatchOutputType: true, rhai.ErrorIndexingType: true,
	rhai.ErrorFor: true, rhai.ErrorDataRace: true,
	rhai.ErrorNonPureMethodCallOnConstant: true, rhai.ErrorDotExpr: true,
	rhai.ErrorTooManyOperations: true, rhai.ErrorTooManyVariables: true,
	rhai.ErrorTooManyModules: true, rhai.ErrorStackOverflow: true,
	rhai.ErrorDataTooLarge: true, rhai.ErrorMemoryLimit: true, rhai.ErrorTerminated: true,
	rhai.ErrorCustomSyntax: true,
}

// fuzzModule is the one module the fuzz resolver serves, under the names
// "m" and "util" (the name testdata/modules.rhai uses): constants, a
// variable, an alias export, public, private and typed-method functions.
const fuzzModule = `
export const ANSWER = 42;
export let counter = 1;
let hidden = 7;
export hidden as revealed;
fn add(a, b) { a + b }
fn uses_private(x) { helper(x) }
private fn helper(x) { x * 2 }
fn int.triple() { this *= 3; }
fn rec(n) { if n <= 0 { 0 } else { 1 + rec(n - 1) } }
`

// fuzzResolve serves fuzzModule, and as a hostile extra a module "self"
// that imports itself, which only the module limit stops.
func fuzzResolve(name string) (string, error) {
	switch name {
	case "m", "util":
		return fuzzModule, nil
	case "self":
		return `import "self" as s; export const X = 1;`, nil
	}
	return "", fmt.Errorf("no module %q", name)
}

// fuzzSeeds covers every syntax feature once, then hostile scripts that
// must be stopped by a limit.
var fuzzSeeds = []string{
	// Literals.
	`[42, -7, 1_000_000, 0xff, 0XfF, 0o777, 0b1011, 9223372036854775807, -9223372036854775808]`,
	`[1.5, -42., 1e3, 2.5e+2, 1.5e-1, 123_456.78_9, 9223372036854775808, 1e308 * 10.0]`,
	`['a', '\n', '\t', '\'', '\x41', '\u0041', '\U0001F600', 'é']`,
	`"esc \n \t \r \\ \" \x41 \u00e9 \U0001F600 \
	continued"`,
	`#"raw "string" with \n no escapes"#`,
	`##"raw with "# inside"##`,
	"`multi\nline ${1 + 2} back-tick ${`nested ${\"deep\"}`} ${[1, 2]}`",
	"let x = 5; `x=${x}, x*2=${x * 2}, m=${[x]}, empty=${\"\"}`",
	`[true, false, (), [], #{}, [1, "two", 3.0, '4', [5]], #{a: 1, "b c": 2, c: #{d: [3]}}]`,
	`let b = blob(4, 0x41); b[1] = 0x42; b += blob(2); [b, b.len(), b.to_array(), b.as_string()]`,
	`let r = 1..10; let ri = 1..=10; [r, ri, r.start, r.end, ri.is_inclusive, 5 in r, r.contains(10)]`,
	`let t = timestamp(); [t.elapsed >= 0.0, type_of(t), t - t]`,

	// Variables, constants, scopes, shadowing.
	`let x = 1; let x = x + 1; const C = 10; { let x = 100; } x + C`,
	`const C = [1, 2]; C.push(3); C`,
	`let x; x = 3; let y = x ?? 4; [x, y, () ?? 5]`,
	`const G = 5; fn f() { global::G * 2 } f()`,
	`let a = 1; let b = a; b += 1; is_def_var("a") && !is_def_var("zz")`,

	// Operators.
	`[1 + 2 * 3 - 4 / 2 % 3, 2 ** 10, 1 << 62, -1 >> 1, 6 & 3, 6 | 3, 6 ^ 3, !true, true && false || true]`,
	`[1 == 1.0, "a" < "b", 'a' + 'b', "x" + 1 + 2.5 + 'c' + () + [1], 1 != "1", [1] == [1], #{a:1} != #{a:2}]`,
	`let x = 10; x += 1; x -= 2; x *= 3; x /= 2; x %= 7; x **= 2; x <<= 2; x >>= 1; x &= 255; x |= 1; x ^= 3; x`,
	`let s = "ab"; s += "cd"; s -= 'c'; s -= "b"; s`,
	`let m = (); [m?.a, m?[0], m ?? 1, "abc"?[1], #{a: #{b: 1}}?.a?.b]`,
	`[9223372036854775807 + 1]`,
	`(-9223372036854775807 - 1) / -1`,
	`(-9223372036854775807 - 1) % -1`,
	`[2 ** 63, 2 ** -1, 1 << 64, 1 << -1, 1 >> 64, 0 ** 0, 1 / 0]`,
	`[abs(-9223372036854775807 - 1)]`,
	`[1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0, to_int(1e300), to_int(0.0/0.0), 10 % 0]`,
	`let x = 0b1010; [x[0], x[1], x[-1], x[1..3], x[0..=63], x[64], x[-65]]`,
	`let x = 0; x[3] = true; x[0..4] = 0b1111; x[60..=63] = 5; x`,
	`[2 in [1, 2], "b" in "abc", 'c' in "abc", "a" in #{a: 1}, 3 in 1..5]`,

	// Control flow.
	`let x = 3; if x > 2 { "big" } else if x > 1 { "mid" } else { "small" }`,
	`let v = if true { 1 } else { 2 }; v`,
	`fn sw(x) { switch x { 1 => "one", 2 | 3 => "few", 4..6 => "range", 7..=9 if x > 8 => "nine", "s" => "str", _ => "many" } } [sw(1), sw(3), sw(5), sw(9), sw(-1), sw("s"), sw(100), sw(())]`,
	`let s = 0; let i = 0; while i < 10 { i += 1; if i % 2 == 0 { continue; } s += i; } s`,
	`let i = 0; let r = loop { i += 1; if i > 5 { break i * 10; } }; r`,
	`let i = 0; do { i += 1; } while i < 5; do { i -= 1; } until i <= 0; i`,
	`let s = 0; for x in 1..10 { s += x; } for x in range(0, 20, 3) { s += x; } for (x, i) in [10, 20] { s += x * i; } for c in "héllo" { s += 1; } s`,
	`let s = []; for (v, i) in #{a: 1, b: 2}.values() { s.push(v); } for k in #{a: 1}.keys() { s.push(k); } s`,
	`for x in range(0, 10, 0) { }`,
	`for x in range(10, 0, -3) { print(x); }`,
	`for x in range(0.0, 1.0, 0.25) { print(x); }`,
	`for x in 42 { }`,
	`let x = 0; try { throw "oops"; } catch (e) { x = e; } x`,
	`try { let a = [1]; a[10] } catch (err) { err.message ?? err }`,
	`try { 1 / 0 } catch { "caught" }`,
	`try { try { throw #{code: 1}; } catch (e) { throw e.code + 1; } } catch (e2) { e2 }`,
	`fn f() { throw "from fn"; } try { f() } catch (e) { [e, type_of(e)] }`,
	`throw`,
	`throw [1, 2]`,
	`exit(42); 1`,
	`fn f() { exit("x") } f()`,
	`return 5; 6`,
	`break;`,
	`continue;`,
	`fn f() { break; } f()`,

	// Functions, methods, closures, function pointers.
	`fn add(a, b) { a + b } fn add(a) { a + 1 } [add(1, 2), add(1)]`,
	`fn fact(n) { if n <= 1 { 1 } else { n * fact(n - 1) } } fact(20)`,
	`fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } } fib(15)`,
	`fn inc() { this += 1; } let x = 1; x.inc(); x.inc(); x`,
	`fn int.double() { this * 2 } fn string.shout() { this.to_upper() + "!" } [5.double(), "hi".shout()]`,
	`fn get() { this } get()`,
	`private fn p() { 1 } p()`,
	`let f = |x| x * 2; let g = |x, y| { let z = x + y; z * z }; [f.call(3), g.call(1, 2), f(4), call(f, 5)]`,
	`let n = 10; let add = |x| x + n; n = 20; add.call(1)`,
	`let counter = 0; let inc = || { counter += 1; counter }; inc.call(); inc.call(); counter`,
	`fn mul(a, b) { a * b } let p = Fn("mul"); let c = p.curry(6); [p.call(2, 3), c.call(7), c.name, p.is_anonymous, type_of(c)]`,
	`let f = |a, b, c| a + b + c; f.curry(1).curry(2).call(3)`,
	`let f = Fn("no_such_fn"); f.call()`,
	`Fn("")`,
	`Fn("+").call(1, 2)`,
	`let f = |x| || || x; f.call(1).call().call()`,
	`let fs = []; for i in 0..3 { fs.push(|| i); } fs.map(|f| f.call())`,
	`fn f(x) { x } [is_def_fn("f", 1), is_def_fn("f", 2), is_def_fn("nope", 0)]`,
	`let a = [1, 2, 3]; a.map(|x| x * this)`,
	`fn f() { let x = 1; g(); x } fn g() { x } f()`,

	// eval.
	`eval("1 + 2")`,
	`let x = 5; eval("x * 2")`,
	`eval("let y = 3;"); y`,
	`eval("fn f() { 1 } f()")`,
	`eval("eval(\"eval('1')\")")`,
	`eval("1 +")`,
	`let s = "eval(s)"; eval(s)`,
	`fn f() { eval("f()") } f()`,

	// Arrays.
	`let a = [3, 1, 2]; a.push(4); a += [5]; a.insert(0, 0); a.sort(); a.reverse(); [a, a.len(), a[0], a[-1], a.pop(), a.shift(), a.remove(1), a]`,
	`let a = [1, 2, 3, 4, 5]; [a.filter(|x| x % 2 == 0), a.map(|x, i| x * i), a.reduce(|s, x| s + x, 0), a.reduce_rev(|s, x| s + x), a.some(|x| x > 4), a.all(|x| x > 0), a.index_of(3), a.find(|x| x > 2), a.contains(9)]`,
	`let a = [5, 2, 9, 1]; a.sort(|x, y| y - x); let b = a.extract(1, 2); a.splice(1, 1, [7, 8]); [a, b, a.drain(|x| x > 7), a.retain(|x| x > 1), a]`,
	`let a = [1, 2, 3]; [a.split(1), a.chop(1), a.truncate(1), a.pad(4, 0), a.dedup(), a.zip([4,5], |x, y| x + y)]`,
	`let a = [1, 2]; a[5]`,
	`let a = [1, 2]; a[-3] = 1;`,
	`let a = [[1, [2, 3]], #{x: [4]}]; a[0][1][0] = 9; a[1].x[0] += 1; a[1].x.push(5); a`,
	`let a = [1, 2, 3]; a.extract(-100, 1000000000)`,
	`let a = [1, 2, 3]; a.splice(-9223372036854775807, 9223372036854775807, [0])`,
	`let a = [1, 2, 3]; a.sort(|x, y| "bad")`,
	`let a = [3, 2, 1]; a.sort(|x, y| { a.push(1); x - y }); a`,
	`let a = [1, 2, 3]; for x in a { a.push(x); } a`,
	`let a = [1, 2, 3]; a.map(|x| { a.clear(); x })`,
	`let a = [1, 2, 3]; a.filter(|x| { a.truncate(0); true })`,
	`let a = []; let f = || a; a.push(f); a.push(a); [a, a.len()]`,
	`let a = [1]; a.push(a); a.push(a); a.push(a); a`,

	// Maps.
	`let m = #{a: 1, b: #{c: 2}}; m.d = 4; m["e f"] = 5; m.b.c += 1; [m, m.len(), m.keys(), m.values(), m.contains("a"), m.remove("a"), m.a, m["zz"]]`,
	`let m = #{a: 1}; m += #{b: 2}; m.mixin(#{c: 3}); m.fill_with(#{a: 9, d: 4}); [m, m.filter(|k, v| v > 1), m.map(|k, v| v * 2), m.to_json()]`,
	`let m = #{a: 1}; m.b.c = 1;`,
	`let m = #{}; m.x.y.z`,
	`parse_json("{\"a\": [1, 2.5, null, true, {\"b\": \"c\"}]}")`,
	`parse_json("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")`,
	`parse_json("{\"a\":")`,
	`let m = #{a: 1}; for (k, v) in m { }`,
	`#{a: 1, a: 2}`,

	// Strings.
	`let s = "Hello, World"; [s.len(), s[0], s[-1], s.to_upper(), s.to_lower(), s.sub_string(1, 3), s.sub_string(-5), s.index_of('o'), s.index_of("o", 5), s.contains("World"), s.starts_with("He"), s.ends_with("ld")]`,
	`let s = "  a,b,,c  "; [s.trim(), s.split(","), s.split(",", 2), s.split_rev(","), s.replace(",", ";"), s.to_chars(), s.chars(), s.bytes]`,
	`let s = "abc"; s.pad(6, '*'); s.pad(8, "xy"); s.crop(1, 4); s.truncate(2); s.clear(); s.append("q"); s`,
	`let s = "héllo wörld"; [s[1], s[1..4], s.sub_string(-100, 1000000000), s.crop(-3), s.index_of(""), s.split(""), s.to_blob()]`,
	`let s = "abc"; s[1] = 'X'; s[-1] = 'Z'; s`,
	`let s = "abc"; s[5]`,
	`"abc".sub_string(9223372036854775807, 9223372036854775807)`,
	`"abc".pad(-1, 'x')`,
	`to_string(1) + to_debug("x") + 1.to_string() + 'c'.to_string() + [1].to_debug() + #{}.to_string()`,
	`[parse_int("42"), parse_int("ff", 16), parse_int("zz", 36), parse_float("1.5"), "42".parse_int(), parse_int("9999999999999999999999")]`,
	`[parse_int("1", 1), parse_int("1", 37), parse_int("", 10)]`,
	`"a,b".split(',').map(|x| x.to_upper()).reduce(|a, b| a + b)`,

	// Blobs.
	`let b = blob(); b.push(1); b.append(blob(2, 3)); b.append("hi"); b.write_le(0, 8, 0x0102030405060708); [b, b.parse_le_int(0, 8), b.parse_be_int(0, 4), b.extract(1, 2), b.len]`,
	`let b = blob(10); b.write_be(2, 4, 1.5); b.write_utf8(0, 3, "xyz"); b.write_ascii(4, 10, "ab"); [b, b.as_string(), b[100], b[-1]]`,
	`let b = blob(3); b[5] = 1;`,
	`let b = blob(3); b.splice(-10, 100, blob(2, 7)); b.parse_le_int(-9223372036854775807 - 1, 9223372036854775807)`,
	`blob(-1)`,
	`blob(5, 300)`,

	// Type checks and conversions.
	`[type_of(1), type_of(1.0), type_of('c'), type_of("s"), type_of(()), type_of([]), type_of(#{}), type_of(blob()), type_of(1..2), type_of(Fn("x")), type_of(|| 1)]`,
	`[to_int(1.9), to_float(3), to_int('A'), 1.5.floor(), 1.5.round(), sqrt(2.0), sin(0.0), 10.max(3), min(1, 2.5), sign(-3)]`,
	`[65.to_char(), 'A'.to_int(), 0x10FFFF.to_char()]`,
	`[1.to_binary(), 255.to_hex(), 8.to_octal(), (-1).to_hex()]`,

	// Modules.
	`import "m" as m; [m::ANSWER, m::counter, m::revealed, m::add(1, 2), m::uses_private(4), 3.triple(), m::rec(10)]`,
	`import "m" as m; m::helper(1)`,
	`import "m" as m; m::ANSWER = 1;`,
	`import "m"; 1`,
	`import "nowhere" as n;`,
	`import 42 as n;`,
	`import "self" as s; s::X`,
	`import "m" as a; import "m" as b; import "m" as c; import "m" as d; import "m" as e; 1`,
	`fn f() { import "m" as m; m::ANSWER } f()`,
	`let name = "m"; import name as m; import ` + "`${name}`" + ` as m2; m2::add(m::ANSWER, 1)`,
	`import "m" as m; m::rec(1000)`,
	`export const X = 1;`,
	`let x = 1; export x as y;`,

	// Print and debug.
	`print("hello"); debug("dbg"); debug(#{a: [1, 'c', "s"]}); print(()); 1`,

	// Deep nesting: parse-time limits.
	strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100),
	strings.Repeat("[", 100) + strings.Repeat("]", 100),
	strings.Repeat("#{a:", 70) + "1" + strings.Repeat("}", 70),
	strings.Repeat("{", 300) + strings.Repeat("}", 300),
	strings.Repeat("-", 200) + "1",
	strings.Repeat("!", 200) + "true",
	"1" + strings.Repeat(" + 1", 500),
	"let x = 1; x" + strings.Repeat(".abs()", 100),
	"fn f() { " + strings.Repeat("(", 40) + "1" + strings.Repeat(")", 40) + " } f()",
	strings.Repeat("|| ", 100) + "1",
	strings.Repeat("if true { ", 100) + "1" + strings.Repeat(" }", 100),
	strings.Repeat("fn f() {} ", 50),
	"`" + strings.Repeat("${`", 40) + "x" + strings.Repeat("`}", 40) + "`",
	`let x = [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]; x[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]`,

	// Hostile: each must be stopped by a limit or the deadline.
	`loop {}`,
	`while true {}`,
	`loop { let x = 1; }`,
	`for x in 0..9223372036854775807 {}`,
	`for x in range(0, 9223372036854775807) { }`,
	`do {} while true;`,
	`fn f(x) { f(x) } f(1)`,
	`fn f(x) { f(x) + f(x) } f(1)`,
	`fn f() { g() } fn g() { f() } f()`,
	`fn f(n) { if n == 0 { 0 } else { f(n - 1) + f(n - 1) } } f(30)`,
	`let f = |x| x.call(x); f.call(f)`,
	`fn f() { let a = Fn("f"); a.call() } f()`,
	`let s = "a"; loop { s += s; }`,
	`let s = "ab"; loop { s = s + s; }`,
	`let s = "x"; loop { s = ` + "`${s}${s}`" + `; }`,
	`let s = "abc"; s.pad(1000000000, 'x')`,
	`let s = "abc"; s.pad(100000, "xyzw")`,
	`let a = [1]; loop { a = [a, a]; }`,
	`let a = [1]; loop { a += a; }`,
	`let a = [1]; loop { a.push(a); }`,
	`let a = [1]; loop { a.append(a); }`,
	`let a = []; a.pad(1000000000, 0)`,
	`let a = [[1, 2, 3]]; loop { a.pad(a.len() * 2, a); }`,
	`let a = [1]; for i in 0..30 { a = [a, a, a, a]; } a`,
	`let a = [1]; for i in 0..30 { a = [a, a]; } a.len()`,
	`let a = [1]; for i in 0..30 { a = [a, a]; } to_string(a)`,
	`let m = #{}; for i in 0..100000 { m["k" + i] = i; } m.len()`,
	`let m = #{}; loop { m = #{a: m, b: m}; }`,
	`let m = #{x: 1}; for i in 0..30 { m = #{a: m, b: m}; } m.to_json()`,
	`let b = blob(1); loop { b += b; }`,
	`let b = blob(1000000000)`,
	`let b = blob(); b.pad(1000000000, 1)`,
	`let x = 1; loop { x = x * 2; }`,
	`let v = []; for i in 0..1000 { let x = i; v.push(x); } v`,
	`let s = "x"; for i in 0..200 { eval("let v" + i + " = 1;"); }`,
	`fn f() { let a = 1; let b = 2; let c = 3; f() } f()`,
	`let f = || { let g = Fn("f"); g.call() }; f.call()`,
	`range(0, 1000000).map(|x| x)`,
	`let a = []; for i in 0..2000 { a.push(i); } a`,
	`let s = ""; for i in 0..20000 { s += "ab"; } s.len()`,
	`let a = [1, 2, 3]; a.sort(|x, y| { loop {} })`,
	`let a = [1, 2, 3]; a.map(|x| { fn_does_not_exist(x) })`,
	`let a = []; for i in 0..10 { a.push(|| a); } a`,
	`let s = "abc"; for i in 0..20 { s.replace("a", "aa"); } s.len()`,
	`let s = "a"; s.pad(10000, 'b'); s.split("").len()`,
	`let a = "x"; a.pad(9999, 'y'); a + a`,
	`let a = "x"; a.pad(9999, 'y'); a.to_chars().len()`,
	`let s = "x"; s.pad(9999, 'y'); let a = []; a.pad(1000, s); a.reduce(|s, x| s + x, "")`,
	`let b = []; b.pad(1000, 0); let a = []; a.pad(1000, b); a.len()`,
	`let a = []; a.pad(999, 0); let b = []; b.pad(999, a); to_string(b).len()`,
	`let m = #{}; for i in 0..900 { let a = []; a.pad(900, i); m["" + i] = a; } m.to_json().len()`,
	`let b = blob(10000); let a = []; a.pad(1000, b); a`,
	`let t = timestamp(); loop { if t.elapsed > 5.0 { break; } }`,
	"\x00",
	"\xff\xfe",
	`"\u{110000}"`,
	`'\u{D800}'`,
	`"unterminated`,
	"`unterminated ${",
	`#"unterminated`,
	`/* unterminated`,
	`let = ;`,
	`fn () {}`,
	`fn f(a, a) {}`,
	`}{`,
	`switch`,
	`1..`,
	`a::b::c::d`,
	`this`,
	`let this = 1;`,
}

// fuzzChunks returns the chunks of testdata/*.rhai as seeds, cut like the
// script tests cut them (at "---" lines).
func fuzzChunks(f *testing.F) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "*.rhai"))
	if err != nil {
		f.Fatal(err)
	}
	var out []string
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var cur []string
		for _, line := range strings.Split(string(b), "\n") {
			if strings.TrimRight(line, " \t\r") == "---" {
				out = append(out, strings.Join(cur, "\n"))
				cur = cur[:0]
				continue
			}
			cur = append(cur, line)
		}
		out = append(out, strings.Join(cur, "\n"))
	}
	return out
}

// fuzzEngine builds the engine every fuzz input runs on. The testdata
// chunks call assert and assert_eq, so those exist, accepting anything, so
// that a failed assertion does not stop a chunk short of the code behind it.
func fuzzEngine() *rhai.Engine {
	e := rhai.New()
	e.SetLimits(fuzzLimits)
	e.SetModuleResolver(rhai.ModuleResolverFunc(fuzzResolve))
	accept := func(*rhai.Context, []rhai.Value) (rhai.Value, error) { return rhai.Unit, nil }
	e.RegisterFn("assert", rhai.P(rhai.TypeAny), accept)
	e.RegisterFn("assert", rhai.P(rhai.TypeAny, rhai.TypeAny), accept)
	e.RegisterFn("assert_eq", rhai.P(rhai.TypeAny, rhai.TypeAny), accept)
	return e
}

// fuzzCheckErr describes what is wrong with err unless it is an
// *rhai.EvalError of a known kind (also every error of its chain) and not a
// panic that Run recovered.
func fuzzCheckErr(stage string, err error) string {
	var ee *rhai.EvalError
	if !errors.As(err, &ee) {
		return fmt.Sprintf("%s: error %T is not *rhai.EvalError: %v", stage, err, err)
	}
	for x := ee; x != nil; x = x.Inner {
		if x.Kind == "" || !fuzzKnownKinds[x.Kind] {
			return fmt.Sprintf("%s: unknown error kind %q: %v", stage, x.Kind, err)
		}
		if strings.Contains(x.Msg, "internal error") {
			return fmt.Sprintf("%s: recovered panic: %v", stage, err)
		}
	}
	if stage == "compile" && ee.Kind != rhai.ErrorParsing {
		return fmt.Sprintf("compile: error of kind %s, want ErrorParsing: %v", ee.Kind, err)
	}
	return ""
}

// fuzzOne compiles and runs src, then formats the result in every way. It
// returns what went wrong, or "" when all is well.
func fuzzOne(e *rhai.Engine, src string) string {
	ast, err := e.Compile(src)
	if err != nil {
		return fuzzCheckErr("compile", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l := fuzzLimits
	v, err := e.Run(ast, rhai.RunOptions{Context: ctx, Limits: &l,
		Print: func(string) {}, Debug: func(string, rhai.Position) {}})
	if err != nil {
		// The error's text formats thrown values too.
		_ = err.Error()
		return fuzzCheckErr("run", err)
	}
	_ = v.String()
	_ = v.DebugString()
	_, _ = rhai.ToJSON(v)
	if *fuzzSizes {
		var z fuzzSize
		z.measure(v, 0)
		l := &fuzzLimits
		if z.str > l.MaxStringLen || z.arr > l.MaxArrayLen || z.maps > l.MaxMapSize || z.blob > l.MaxBlobLen {
			return fmt.Sprintf("result exceeds the size limits: %+v", z)
		}
	}
	return ""
}

// fuzzSize is the nested size of a value: array elements, map properties,
// string and blob bytes, summed over every level.
type fuzzSize struct{ arr, maps, str, blob int }

// measure adds v's nested size to z, to the depth the engine walks.
func (z *fuzzSize) measure(v rhai.Value, depth int) {
	if depth > 1000 {
		return
	}
	v = v.Flatten()
	switch v.Type() {
	case rhai.TypeString:
		z.str += len(v.AsString())
	case rhai.TypeBlob:
		z.blob += len(v.AsBlob().B)
	case rhai.TypeArray:
		elems := v.AsArray().Elems
		z.arr += len(elems)
		for _, e := range elems {
			z.measure(e, depth+1)
		}
	case rhai.TypeMap:
		m := v.AsMap().M
		z.maps += len(m)
		for _, e := range m {
			z.measure(e, depth+1)
		}
	}
}

func FuzzCompileRun(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, s := range fuzzChunks(f) {
		f.Add(s)
	}
	e := fuzzEngine()
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > fuzzMaxInput {
			t.Skip("input over 4 KiB")
		}
		// Run in a goroutine so that a hang is reported as a failure rather
		// than stalling the fuzzer; a panic there is recovered with its
		// stack and reported from the test goroutine.
		done := make(chan string, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Sprintf("panic: %v\n%s", r, debug.Stack())
				}
			}()
			done <- fuzzOne(e, src)
		}()
		select {
		case msg := <-done:
			if msg != "" {
				t.Fatalf("%s\ninput: %q", msg, src)
			}
		case <-time.After(fuzzHangAfter):
			t.Fatalf("hang: compile+run+format did not return within %v\ninput: %q", fuzzHangAfter, src)
		}
	})
}
