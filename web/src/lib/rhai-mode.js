// Syntax highlighting of Rhai for CodeMirror 6: a small stream tokenizer,
// enough for keywords, literals (strings, `templates`, characters,
// numbers), comments (nested block comments too), object maps and calls.
import { HighlightStyle, StreamLanguage } from '@codemirror/language';
import { tags as t } from '@lezer/highlight';

const keywords = new Set(
	('let const if else switch do while until loop for in break continue return throw try catch ' +
		'fn private import export as global is').split(' ')
);
const atoms = new Set(['true', 'false', 'this']);
const builtins = new Set(
	('print debug type_of Fn call curry is_def_fn is_def_var is_shared eval response ' +
		'parse_int parse_float parse_json to_json to_string timestamp').split(' ')
);

function blockComment(stream, state) {
	while (!stream.eol()) {
		if (stream.match('/*')) state.comment++;
		else if (stream.match('*/')) {
			if (--state.comment === 0) break;
		} else stream.next();
	}
	return 'comment';
}

function template(stream, state) {
	while (!stream.eol()) {
		const ch = stream.next();
		if (ch === '\\') stream.next();
		else if (ch === '`') {
			state.template = false;
			break;
		}
	}
	return 'string.special';
}

export const rhai = StreamLanguage.define({
	name: 'rhai',
	startState: () => ({ comment: 0, template: false, afterFn: false }),
	copyState: (s) => ({ ...s }),
	token(stream, state) {
		if (state.comment > 0) return blockComment(stream, state);
		if (state.template) return template(stream, state);
		if (stream.eatSpace()) return null;
		if (stream.match('//')) {
			stream.skipToEnd();
			return 'comment';
		}
		if (stream.match('/*')) {
			state.comment = 1;
			return blockComment(stream, state);
		}
		if (stream.match('#{')) return 'brace';
		const ch = stream.peek();
		if (ch === '"') {
			stream.next();
			while (!stream.eol()) {
				const c = stream.next();
				if (c === '\\') stream.next();
				else if (c === '"') break;
			}
			return 'string';
		}
		if (ch === '`') {
			stream.next();
			state.template = true;
			return template(stream, state);
		}
		if (ch === "'" && stream.match(/^'(\\.|[^'\\])'/)) return 'string';
		if (stream.match(/^(0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d+)?)/))
			return 'number';
		const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/);
		if (word) {
			const w = word[0];
			const afterFn = state.afterFn;
			state.afterFn = w === 'fn';
			if (keywords.has(w)) return 'keyword';
			if (atoms.has(w)) return 'atom';
			if (afterFn) return 'variableName.definition';
			if (stream.peek() === '(' || stream.match(/^\s*\(/, false)) {
				return builtins.has(w) ? 'variableName.standard' : 'variableName.function';
			}
			return 'variableName';
		}
		if (stream.match(/^(\?\?|\?\.|::|=>|[+\-*/%=<>!&|^]=?|\.\.=?)/)) return 'operator';
		stream.next();
		return null;
	},
	languageData: {
		commentTokens: { line: '//', block: { open: '/*', close: '*/' } }
	}
});

// Colours that read on light and dark backgrounds alike.
export const rhaiHighlight = HighlightStyle.define([
	{ tag: t.keyword, color: 'var(--hl-keyword)', fontWeight: '600' },
	{ tag: t.atom, color: 'var(--hl-atom)' },
	{ tag: t.number, color: 'var(--hl-number)' },
	{ tag: [t.string, t.special(t.string)], color: 'var(--hl-string)' },
	{ tag: t.comment, color: 'var(--hl-comment)', fontStyle: 'italic' },
	{ tag: t.definition(t.variableName), color: 'var(--hl-def)', fontWeight: '600' },
	{ tag: [t.function(t.variableName), t.standard(t.variableName)], color: 'var(--hl-fn)' },
	{ tag: t.operator, color: 'var(--hl-operator)' }
]);
