// What the signed-in user may do in an app (docs/api.md, "Who may do
// what"): administrators everything, then the app role from the members.
import { api, seg } from './api.js';
import { session } from './session.svelte.js';

/**
 * The caller's standing in an app: 'admin', 'editor' or 'viewer'.
 * @param {{username: string, role: string}[]} members
 */
export function appRole(members) {
	if (session.user?.role === 'admin') return 'admin';
	const me = members.find((m) => m.username === session.user?.username);
	return me ? me.role : 'viewer';
}

export const canEdit = (role) => role === 'admin' || role === 'editor';

/** Loads an app with its members and the caller's role in it. */
export async function loadApp(slug) {
	const [app, members] = await Promise.all([
		api('GET', '/apps/' + seg(slug)),
		api('GET', '/apps/' + seg(slug) + '/members')
	]);
	return { app, members, role: appRole(members) };
}
