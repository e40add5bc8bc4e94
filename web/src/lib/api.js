// A small client of the control-plane API (docs/api.md): JSON in and out,
// the session token as a bearer token, errors as ApiError with the API's
// stable code and message.
import { goto } from '$app/navigation';
import { base } from '$app/paths';
import { session, signOut } from './session.svelte.js';

export class ApiError extends Error {
	constructor(status, code, message, details) {
		super(message);
		this.status = status;
		this.code = code;
		this.details = details;
	}
}

/**
 * @param {string} method
 * @param {string} path under /api/v1
 * @param {unknown} [body] sent as JSON
 */
export async function api(method, path, body) {
	const headers = { Accept: 'application/json' };
	if (session.token) headers.Authorization = 'Bearer ' + session.token;
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	let res;
	try {
		res = await fetch('/api/v1' + path, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body)
		});
	} catch (err) {
		throw new ApiError(0, 'network', 'The server cannot be reached: ' + err.message);
	}
	if (res.status === 204) return null;
	let data = null;
	try {
		data = await res.json();
	} catch {
		// a proxy's HTML error page, say
	}
	if (!res.ok) {
		const e = data?.error || {};
		const err = new ApiError(res.status, e.code || 'http_' + res.status, e.message || res.statusText, e.details);
		if (res.status === 401 && path !== '/auth/login') {
			// The session expired or was ended elsewhere: sign in again.
			signOut();
			const next = location.pathname + location.search;
			goto(base + '/login?next=' + encodeURIComponent(next));
		}
		throw err;
	}
	return data;
}

/** encodeURIComponent for path segments. */
export const seg = encodeURIComponent;

/** A dashboard link: the path below /ui. */
export function href(path) {
	return base + path;
}
