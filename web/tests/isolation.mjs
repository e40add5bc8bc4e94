// A hostile script page against the dashboard user who opens it, in
// Debian's Chromium driven by playwright-core, against a real picloud
// server. Run by web/ui_test.go after e2e.mjs, with the same environment.
//
// A member deploys, in an app of their own, a script that answers with
// HTML whose JavaScript tries everything a page on the dashboard's origin
// could do with the credentials of whoever opens it: read the session
// token from storage or cookies, call the API with it or with the
// browser's credentials, frame the dashboard and the API, open the
// dashboard in a popup and read it, register a service worker over the
// whole origin. An administrator, signed in to the dashboard, opens the
// page. The page reports what each attempt gave on the console; every
// attempt must fail, each in the way the sandbox (docs/security.md) makes
// it fail.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

const url = required('PICLOUD_URL');
const adminUser = process.env.PICLOUD_ADMIN_USER || 'admin';
const adminPassword = required('PICLOUD_ADMIN_PASSWORD');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const origin = new URL(url).origin;

const mallory = { username: 'mallory', password: 'mallory-password' };
const app = 'mallory-pages';

function required(name) {
	const v = process.env[name];
	if (!v) throw new Error(`${name} is not set; run the journeys with 'go test ./web'`);
	return v;
}

async function apiCall(method, path, token, body) {
	const res = await fetch(origin + '/api/v1' + path, {
		method,
		headers: {
			...(token ? { Authorization: 'Bearer ' + token } : {}),
			...(body ? { 'Content-Type': 'application/json' } : {})
		},
		body: body ? JSON.stringify(body) : undefined
	});
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : null };
}

// The hostile page's JavaScript. It reports {attempt: {ok: value} or
// {error: name, message}} as one console line starting with ATTACK.
function attack(app) {
	const results = { origin: self.origin };
	const attempt = async (name, fn) => {
		try {
			results[name] = { ok: await fn() };
		} catch (e) {
			results[name] = { error: e.name, message: String(e.message) };
		}
	};
	const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
	(async () => {
		let token = null;
		await attempt('localStorage', () => (token = localStorage.getItem('picloud.token')));
		await attempt('sessionStorage', () => sessionStorage.length);
		await attempt('cookie', () => document.cookie);
		await attempt('apiWithCredentials', async () => {
			const r = await fetch('/api/v1/apps', { credentials: 'include' });
			return r.status + ' ' + (await r.text()).slice(0, 300);
		});
		await attempt('apiWithToken', async () => {
			if (!token) return 'no token';
			const r = await fetch('/api/v1/users', { headers: { Authorization: 'Bearer ' + token } });
			return r.status + ' ' + (await r.text()).slice(0, 300);
		});
		await attempt('apiNoCors', async () => {
			const r = await fetch('/api/v1/whoami', { mode: 'no-cors', credentials: 'include' });
			return r.type + ' ' + r.status;
		});
		for (const [name, src] of [
			['frameDashboard', '/ui/'],
			['frameAPI', '/api/v1/whoami']
		]) {
			const f = document.createElement('iframe');
			f.src = src;
			const loaded = new Promise((r) => f.addEventListener('load', r, { once: true }));
			document.body.append(f);
			await Promise.race([loaded, sleep(3000)]);
			await attempt(name, () => {
				const d = f.contentDocument;
				return d ? d.location.pathname + ' ' + d.body.innerText.slice(0, 200) : 'unreadable';
			});
		}
		const w = window.open('/ui/', 'dashboard');
		for (let i = 0; i < 50; i++) {
			try {
				if (w.document.readyState === 'complete' && w.location.pathname === '/ui/') break;
			} catch {
				break; // cross-origin: reading it will throw below
			}
			await sleep(100);
		}
		await sleep(500); // the dashboard's own scripts run
		await attempt('popupToken', () => w.localStorage.getItem('picloud.token'));
		await attempt('popupDocument', () => w.document.body.innerText.slice(0, 200));
		await attempt('serviceWorker', async () => {
			const reg = await navigator.serviceWorker.register(`/fn/${app}/sw`, { scope: '/' });
			return reg.scope;
		});
		// What the page may do: call its own app, which allows it by CORS.
		await attempt('ownApp', async () => (await fetch(`/fn/${app}/api`)).text());
		console.log('ATTACK ' + JSON.stringify(results));
	})();
}

const pageSource =
	'response(200, ' +
	JSON.stringify(`<!doctype html><title>Totally harmless</title><h1>Hello</h1><script>(${attack})(${JSON.stringify(app)})</script>`) +
	', #{"Content-Type": "text/html; charset=utf-8", "Set-Cookie": "tossed=1; Path=/"})\n';

// A service worker that would answer every request of the origin, with
// the header that would let it claim the whole origin as its scope.
const swSource =
	'response(200, ' +
	JSON.stringify("self.addEventListener('fetch', (e) => e.respondWith(new Response('owned')));") +
	', #{"Content-Type": "text/javascript", "Service-Worker-Allowed": "/"})\n';

// A page that would wipe the origin's storage (the dashboard's session).
const wipeSource = 'response(200, "bye", #{"Clear-Site-Data": "\\"storage\\", \\"cookies\\""})\n';

let browser;
let adminToken;

before(async () => {
	browser = await chromium.launch({
		executablePath,
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
	});
	const admin = await apiCall('POST', '/auth/login', '', { username: adminUser, password: adminPassword });
	assert.equal(admin.status, 200);
	adminToken = admin.body.token;
	assert.equal((await apiCall('POST', '/users', adminToken, { ...mallory, role: 'member' })).status, 201);
	const m = (await apiCall('POST', '/auth/login', '', mallory)).body.token;
	assert.equal((await apiCall('POST', '/apps', m, { slug: app })).status, 201);
	for (const [name, source] of [
		['page', pageSource],
		['sw', swSource],
		['wipe', wipeSource],
		['api', 'response(200, "pong", #{"Access-Control-Allow-Origin": "*"})\n']
	]) {
		const res = await apiCall('PUT', `/apps/${app}/scripts/${name}`, m, { source });
		assert.equal(res.status, 201, JSON.stringify(res.body));
	}
});

after(async () => {
	await browser?.close();
	if (adminToken) {
		await apiCall('DELETE', `/apps/${app}?force=true`, adminToken);
		await apiCall('DELETE', `/users/${mallory.username}`, adminToken);
	}
});

test("a script's page cannot read or use the dashboard user's credentials, nor frame the dashboard", async () => {
	const ctx = await browser.newContext();
	const page = await ctx.newPage();
	page.setDefaultTimeout(20_000);
	const consoleLines = [];
	page.on('console', (m) => consoleLines.push(m.text()));

	// The administrator signs in: the token lands in localStorage.
	await page.goto(url + '/ui/login');
	await page.getByLabel('Username').fill(adminUser);
	await page.getByLabel('Password').fill(adminPassword);
	await page.getByLabel('Password').press('Enter');
	await page.getByTestId('whoami').waitFor();
	const token = await page.evaluate(() => localStorage.getItem('picloud.token'));
	assert.match(token, /^pcs_/);

	// ... and opens the member's page.
	const popupOpened = page.waitForEvent('popup');
	const report = page.waitForEvent('console', { predicate: (m) => m.text().startsWith('ATTACK '), timeout: 30_000 });
	const res = await page.goto(`${url}/fn/${app}/page`);
	const r = JSON.parse((await report).text().slice('ATTACK '.length));
	console.log('what the hostile page got:', JSON.stringify(r, null, 1));
	assert.equal(res.headers()['x-content-type-options'], 'nosniff');

	// It runs in an opaque origin of its own ...
	assert.equal(r.origin, 'null');
	// (a) ... where storage and cookies are out of reach.
	assert.equal(r.localStorage.error, 'SecurityError');
	assert.equal(r.sessionStorage.error, 'SecurityError');
	assert.equal(r.cookie.error, 'SecurityError');
	// (b) The API is another origin to it: a credentialed call is refused
	// by CORS, there is no token to send, a no-cors call is unreadable.
	assert.equal(r.apiWithCredentials.error, 'TypeError');
	assert.deepEqual(r.apiWithToken, { ok: 'no token' });
	assert.deepEqual(r.apiNoCors, { ok: 'opaque 0' });
	// (c) The dashboard and the API refuse to be framed, and the page
	// could not read a frame anyway.
	assert.deepEqual(r.frameDashboard, { ok: 'unreadable' });
	assert.deepEqual(r.frameAPI, { ok: 'unreadable' });
	// Chromium names the origin only: one refusal for each frame.
	const refused = `Framing '${origin}/' violates the following Content Security Policy directive: "frame-ancestors 'none'"`;
	assert.equal(consoleLines.filter((l) => l.startsWith(refused)).length, 2, consoleLines.join('\n'));
	// (d) The popup is another origin to its opener ...
	assert.equal(r.popupToken.error, 'SecurityError');
	assert.equal(r.popupDocument.error, 'SecurityError');
	// ... and inherits the sandbox: the dashboard in it cannot read the
	// token either.
	const popup = await popupOpened;
	await popup.waitForLoadState();
	assert.equal(new URL(popup.url()).pathname, '/ui/');
	assert.deepEqual(
		await popup.evaluate(() => {
			try {
				return { origin: self.origin, token: localStorage.getItem('picloud.token') };
			} catch (e) {
				return { origin: self.origin, error: e.name };
			}
		}),
		{ origin: 'null', error: 'SecurityError' }
	);
	// (e) No service worker: the sandbox has no access to them.
	assert.equal(r.serviceWorker.error, 'SecurityError');
	assert.equal(ctx.serviceWorkers().length, 0);

	// Its own app answers it, as any other origin that the app allows.
	assert.deepEqual(r.ownApp, { ok: 'pong' });

	// The cookie the page set for the whole origin is confined to its app.
	const tossed = (await ctx.cookies(url)).concat(await ctx.cookies(`${url}/fn/${app}/page`)).filter((c) => c.name === 'tossed');
	assert.ok(tossed.length > 0, 'the cookie was set');
	assert.ok(tossed.every((c) => c.path === `/fn/${app}/`), JSON.stringify(tossed));
	assert.deepEqual(await ctx.cookies(`${url}/ui/`), []);
	assert.deepEqual(await ctx.cookies(`${url}/api/v1/apps`), []);

	// A page that asks the browser to clear the origin's storage does not
	// sign the administrator out.
	await page.goto(`${url}/fn/${app}/wipe`);
	await page.goto(url + '/ui/');
	await page.getByTestId('whoami').waitFor();
	assert.equal(await page.evaluate(() => localStorage.getItem('picloud.token')), token);
	assert.equal((await apiCall('GET', '/whoami', token)).status, 200);
	await ctx.close();
});
