// The signed-in user. The session token is kept in localStorage so that a
// reload or a second tab stays signed in; logging out ends the session on
// the server and forgets the token here.

const KEY = 'picloud.token';

export const session = $state({
	token: localStorage.getItem(KEY) || '',
	/** @type {null | {id: number, username: string, role: string, role_label: string}} */
	user: null
});

export function signIn(token, user) {
	localStorage.setItem(KEY, token);
	session.token = token;
	session.user = user;
}

export function signOut() {
	localStorage.removeItem(KEY);
	session.token = '';
	session.user = null;
}
