// Formatting shared by the pages.
import { times } from './times.svelte.js';

/**
 * "2025-01-31 12:00:00 UTC", or in the browser's zone with its name
 * ("2025-01-31 17:30:00 GMT+5:30") when the user chose local times; "—"
 * for none. Every time says its zone: the CLI prints UTC.
 */
export function when(iso) {
	if (!iso) return '—';
	const d = new Date(iso);
	if (isNaN(d)) return iso;
	const p = (n) => String(n).padStart(2, '0');
	const [y, mo, day, h, mi, s] = times.local
		? [d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()]
		: [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
	return `${y}-${p(mo + 1)}-${p(day)} ${p(h)}:${p(mi)}:${p(s)} ${zoneName(d)}`;
}

/**
 * The name of the zone times are shown in at instant d: "UTC", or the
 * browser's ("CET", "GMT+5:30") when local is true.
 */
export function zoneName(d = new Date(), local = times.local) {
	if (!local) return 'UTC';
	const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName');
	return part ? part.value : 'local time';
}

/** The timeZone option of toLocale…String for the chosen zone. */
export function zoneOption() {
	return times.local ? undefined : 'UTC';
}

/** A duration in milliseconds, to a readable precision. */
export function ms(v) {
	if (v == null) return '—';
	if (v < 1) return v.toFixed(3) + ' ms';
	if (v < 100) return v.toFixed(1) + ' ms';
	if (v < 10000) return Math.round(v) + ' ms';
	return (v / 1000).toFixed(1) + ' s';
}

// The API's rules for names (docs/api.md, "Names").
export const slugRe = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const scriptRe = /^[a-zA-Z0-9_][a-zA-Z0-9_-]{0,63}$/;

/** Why a slug is not valid, or '' when it is. */
export function slugProblem(s) {
	if (s === '') return 'A slug is required.';
	if (s.length > 63) return 'At most 63 characters.';
	if (/[A-Z]/.test(s)) return 'Use lower-case letters only.';
	if (/[^a-z0-9-]/.test(s)) return 'Only lower-case letters, digits and hyphens.';
	if (s.startsWith('-') || s.endsWith('-')) return 'A slug cannot start or end with a hyphen.';
	return slugRe.test(s) ? '' : 'Not a valid slug.';
}

/** Why a script name is not valid, or '' when it is. */
export function scriptProblem(s) {
	if (s === '') return 'A name is required.';
	if (s.length > 64) return 'At most 64 characters.';
	if (s.startsWith('-')) return 'A name cannot start with a hyphen.';
	return scriptRe.test(s) ? '' : 'Only letters, digits, "_" and "-".';
}
