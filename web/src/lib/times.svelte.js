// The time zone the dashboard shows times in: UTC, as the CLI and the API
// do, unless the user picks their browser's own zone in the header. The
// choice is remembered in localStorage, like the session.

const KEY = 'picloud.times';

export const times = $state({ local: localStorage.getItem(KEY) === 'local' });

/** @param {boolean} local show times in the browser's zone */
export function setLocalTimes(local) {
	times.local = local;
	if (local) localStorage.setItem(KEY, 'local');
	else localStorage.removeItem(KEY);
}
