// Browser journeys through the dashboard, in Debian's Chromium driven by
// playwright-core, against a real picloud server. Run by web/ui_test.go
// (`go test ./web`), which builds and starts the server and passes:
//
//   PICLOUD_URL             http://127.0.0.1:PORT of the running server
//   PICLOUD_ADMIN_USER      the first admin's name and password
//   PICLOUD_ADMIN_PASSWORD
//   PICLOUD_UI_OUTPUT       where screenshots go (default tests/output)
//   CHROMIUM                the browser (default /usr/bin/chromium)
//
// The steps run in order and share one browser page, like a person
// clicking through: each step starts where the previous one ended.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

const url = required('PICLOUD_URL');
const adminUser = process.env.PICLOUD_ADMIN_USER || 'admin';
const adminPassword = required('PICLOUD_ADMIN_PASSWORD');
const out = process.env.PICLOUD_UI_OUTPUT || join(import.meta.dirname, 'output');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const origin = new URL(url).origin;

const slug = 'ui-demo';
const script = 'hello';
const viewer = { username: 'ui-viewer', password: 'ui-viewer-password' };
const badSource = 'let greeting = "hi";\nlet x = (1 + 2;\ngreeting\n';
const goodSource =
	'let name = request.query.name ?? "world";\n' +
	'print(`greeting ${name}`);\n' +
	'#{ hello: name, method: request.method, test: request.headers["x-test"] }\n';
const secondSource = goodSource.replace('greeting ${name}', 'hello again, ${name}');

function required(name) {
	const v = process.env[name];
	if (!v) throw new Error(`${name} is not set; run the journeys with 'go test ./web'`);
	return v;
}

let browser;
let page;
const external = []; // requests that left the server's origin
const problems = []; // uncaught exceptions and CSP violations in the pages

function watch(p) {
	p.on('request', (r) => {
		const u = r.url();
		if (!u.startsWith(origin + '/') && !u.startsWith('data:')) external.push(u);
	});
	p.on('pageerror', (e) => problems.push('page error: ' + e.message));
	p.on('console', (m) => {
		if (/Content Security Policy/i.test(m.text())) problems.push('CSP: ' + m.text());
	});
	p.setDefaultTimeout(20_000);
}

async function newPage(viewport = { width: 1280, height: 900 }) {
	// A zone away from UTC, 5:30 ahead all year, so that local times show.
	const ctx = await browser.newContext({ viewport, reducedMotion: 'reduce', timezoneId: 'Asia/Kolkata' });
	const p = await ctx.newPage();
	watch(p);
	return p;
}

async function shot(p, name) {
	await p.screenshot({ path: join(out, name + '.png'), fullPage: true });
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

// Replaces the editor's whole text, as a paste would.
async function setSource(p, text) {
	await p.locator('.cm-content').click();
	await p.keyboard.press('ControlOrMeta+a');
	await p.keyboard.insertText(text);
}

async function login(p, username, password) {
	await p.getByLabel('Username').fill(username);
	await p.getByLabel('Password').fill(password);
	await p.getByLabel('Password').press('Enter');
	await p.getByTestId('whoami').waitFor();
}

before(async () => {
	mkdirSync(out, { recursive: true });
	browser = await chromium.launch({
		executablePath,
		args: [
			'--no-sandbox',
			'--disable-gpu',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
			'--no-first-run'
		]
	});
	page = await newPage();
});

after(async () => {
	await browser?.close();
});

test('the root redirects to the login page, and a wrong password is refused', async () => {
	await page.goto(url + '/');
	await page.waitForURL(/\/ui\/login\?next=/);
	await page.getByLabel('Username').fill(adminUser);
	await page.getByLabel('Password').fill('not-the-password');
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.getByRole('alert').filter({ hasText: 'Invalid username or password.' }).waitFor();
	await shot(page, '01-login');
});

test('logs in and shows the user and role', async () => {
	await login(page, adminUser, adminPassword);
	assert.match(await page.getByTestId('whoami').innerText(), new RegExp(`${adminUser}\\s*· Administrator`));
	assert.equal(new URL(page.url()).pathname, '/ui/');
	await page.getByRole('heading', { name: 'Apps' }).waitFor();
});

test('creates an app, validating the slug inline', async () => {
	const input = page.getByLabel('Slug');
	await input.fill('Bad_Slug');
	await page.locator('#app-slug-error').filter({ hasText: 'Use lower-case letters only.' }).waitFor();
	assert.equal(await input.getAttribute('aria-invalid'), 'true');
	await input.fill('-demo');
	await page.locator('#app-slug-error').filter({ hasText: 'cannot start or end with a hyphen' }).waitFor();
	await shot(page, '02-apps-invalid-slug');

	await input.fill(slug);
	assert.equal(await page.locator('#app-slug-error').innerText(), '');
	assert.equal(await input.getAttribute('aria-invalid'), 'false');
	await page.getByLabel('Name (optional)').fill('UI demo');
	await page.getByRole('button', { name: 'Create app' }).click();
	await page.waitForURL(`**/ui/apps/${slug}`);
	await page.getByRole('heading', { name: 'UI demo', level: 1 }).waitFor();

	// The list has it, and a taken slug is reported at the field.
	await page.getByRole('link', { name: 'Apps', exact: true }).first().click();
	await page.getByRole('link', { name: slug }).waitFor();
	await input.fill(slug);
	await page.getByRole('button', { name: 'Create app' }).click();
	await page.locator('#app-slug-error').filter({ hasText: `"${slug}" is taken.` }).waitFor();
	await shot(page, '03-apps');
	await page.getByRole('link', { name: slug }).click();
	await page.waitForURL(`**/ui/apps/${slug}`);
});

test('shows a compile error at its line, then deploys', async () => {
	await page.getByLabel('New script').fill(script);
	await page.getByRole('button', { name: 'Write it' }).click();
	await page.waitForURL(`**/ui/apps/${slug}/scripts/${script}?new=1`);
	await page.locator('.cm-content').waitFor();

	await setSource(page, badSource);
	await page.getByRole('button', { name: 'Deploy' }).click();
	const notice = page.getByTestId('compile-error');
	await notice.waitFor();
	assert.match(await notice.innerText(), /line 2, column 15/);
	// The editor marks the second line itself, with the message under it.
	const marked = page.locator('.cm-line.cm-error-line');
	assert.equal(await marked.count(), 1);
	assert.equal(await marked.getAttribute('data-error-line'), '2');
	assert.equal(await marked.innerText(), 'let x = (1 + 2;');
	const lines = await page.locator('.cm-content > .cm-line').allInnerTexts();
	assert.equal(lines.indexOf('let x = (1 + 2;'), 1, 'the marked line is the second');
	assert.match(await page.locator('.cm-compile-error').innerText(), /^Line 2, column 15: Expecting '\)' to close the parenthesized expression$/);
	// Syntax highlighting: keywords and strings have their own styles.
	assert.ok((await page.locator('.cm-line').first().locator('span').count()) >= 2, 'the first line is highlighted');
	await shot(page, '04-compile-error');

	// Nothing was stored: the script does not exist yet.
	const admin = await apiCall('POST', '/auth/login', '', { username: adminUser, password: adminPassword });
	assert.equal((await apiCall('GET', `/apps/${slug}/scripts/${script}`, admin.body.token)).status, 404);

	await setSource(page, goodSource);
	assert.equal(await page.locator('.cm-error-line').count(), 0, 'an edit clears the error');
	await page.getByRole('button', { name: 'Deploy' }).click();
	await page.getByRole('status').filter({ hasText: 'Deployed version 1' }).waitFor();
	await page.getByText('live v1').waitFor();

	// A second version, then the first one's source from the history.
	await setSource(page, secondSource);
	await page.getByText('modified').waitFor();
	await page.keyboard.press('ControlOrMeta+s');
	await page.getByRole('status').filter({ hasText: 'Deployed version 2' }).waitFor();
	await page.getByRole('button', { name: 'Show the source of version 1' }).click();
	assert.equal((await page.getByTestId('version-source').innerText()).trim(), goodSource.trim());
	await page.getByRole('button', { name: 'Load into the editor' }).click();
	await page.getByRole('button', { name: 'Deploy' }).click();
	await page.getByRole('status').filter({ hasText: 'Deployed version 3' }).waitFor();
	await shot(page, '05-script');
});

let invocation = '';

test('invokes the script from the try-it panel', async () => {
	await page.getByLabel('Method').selectOption('POST');
	await page.getByLabel('Path and query').fill('?name=pi');
	await page.getByLabel(/^Headers/).fill('X-Test: from the dashboard');
	await page.getByLabel('Body').fill('{"n": 1}');
	await page.getByRole('button', { name: 'Send' }).click();
	const status = page.getByTestId('try-status');
	await status.waitFor();
	assert.equal(await status.innerText(), '200 OK');
	const body = JSON.parse(await page.getByTestId('try-body').innerText());
	assert.deepEqual(body, { hello: 'pi', method: 'POST', test: 'from the dashboard' });
	assert.match(await page.getByTestId('try-duration').innerText(), /^\d+(\.\d+)? m?s$/);
	await page.getByText(/^Headers \(\d+\)$/).click();
	assert.match(await page.getByTestId('try-result').innerText(), /x-picloud-invocation/i);
	const link = page.getByRole('link', { name: /^invocation / });
	invocation = (await link.innerText()).replace('invocation ', '');
	assert.ok(invocation.length > 10, 'an invocation id: ' + invocation);
	await shot(page, '06-try-it');
});

test('shows the log entry with its output, filters and chart', async () => {
	// Logs are written in batches (every 50 ms in this test's server):
	// wait a few intervals once, then look.
	await page.waitForTimeout(500);
	await page.getByRole('link', { name: 'logs', exact: true }).click();
	await page.waitForURL(`**/ui/apps/${slug}/logs?script=${script}`);
	const table = page.getByTestId('logs-table');
	await table.waitFor();
	const rows = table.locator('tbody tr');
	assert.equal(await rows.count(), 1);
	assert.match(await rows.first().innerText(), /ok[\s\S]*hello[\s\S]*http[\s\S]*200/);
	assert.match(await page.getByTestId('chart').getAttribute('aria-label'), /^1 invocation, 0 failed, in the last 24 h$/);

	// Filters: no errors, one ok run.
	await page.getByLabel('Status', { exact: true }).selectOption('error');
	await page.getByText('Nothing logged that matches.').waitFor();
	await page.getByLabel('Status', { exact: true }).selectOption('ok');
	await rows.first().waitFor();

	await rows.first().getByRole('link').click();
	const detail = page.getByTestId('log-detail');
	await detail.waitFor();
	assert.ok(page.url().includes('id=' + invocation), 'the detail of the invocation from try-it');
	assert.equal((await page.getByTestId('log-output').innerText()).trim(), 'greeting pi');
	assert.match(await detail.innerText(), /Status\s+ok[\s\S]*Trigger\s+http[\s\S]*HTTP status\s+200/);
	await shot(page, '07-logs');

	// The app page shows the script's version and last status.
	await page.getByRole('link', { name: slug }).click();
	const row = page.locator('tr', { has: page.getByRole('link', { name: script }) });
	await row.getByRole('link', { name: 'ok' }).waitFor(); // the last run's status
	assert.match(await row.innerText(), /hello\s+v3\s+public\s+ok/);
	await shot(page, '08-app');
});

test("shows times in UTC, or in the browser's zone once chosen, and remembers the choice", async () => {
	const picker = page.getByLabel('Times in');
	assert.equal(await picker.inputValue(), 'utc');
	// The app page shows the script's last run.
	const row = page.locator('tr', { has: page.getByRole('link', { name: script }) });
	const text = await row.innerText();
	const utc = text.match(/(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC/);
	assert.ok(utc, 'a time in UTC in ' + text);
	const instant = Date.parse(`${utc[1]}T${utc[2]}Z`);
	const kolkata = new Date(instant + 5.5 * 3600e3).toISOString().slice(0, 19).replace('T', ' ') + ' GMT+5:30';

	await picker.selectOption('local');
	await row.getByText(kolkata).first().waitFor();
	assert.ok(!(await row.innerText()).includes(' UTC'), 'no time is left in UTC');
	await page.reload();
	await row.getByText(kolkata).first().waitFor();
	assert.equal(await picker.inputValue(), 'local');
	await shot(page, '08b-local-times');

	await picker.selectOption('utc');
	await row.getByText(utc[0]).first().waitFor();
	assert.equal(await page.evaluate(() => localStorage.getItem('picloud.times')), null);
});

test('sets a secret that a script reads, never showing its value, and deletes it', async () => {
	const name = 'UI_TOKEN';
	const value = 'sekrit-value-4242';
	await page.getByRole('heading', { name: 'Secrets' }).waitFor();
	await page.getByText('No secrets.').waitFor();

	// A bad name: the field says so as it is typed, the server's 422
	// message is shown, nothing is listed.
	const secretField = page.getByLabel('Secret name');
	assert.equal(await secretField.getAttribute('autocapitalize'), 'characters');
	assert.equal(await secretField.getAttribute('aria-describedby'), 'secret-name-hint');
	await secretField.fill('bad-name');
	await page.locator('#secret-name-hint').filter({ hasText: 'Upper-case letters, digits' }).waitFor();
	assert.equal(await secretField.getAttribute('aria-invalid'), 'true');
	await page.getByLabel('Value', { exact: true }).fill(value);
	assert.equal(await page.getByLabel('Value', { exact: true }).getAttribute('type'), 'password');
	await page.getByRole('button', { name: 'Set secret' }).click();
	await page.getByRole('alert').filter({ hasText: 'invalid secret name "bad-name"' }).waitFor();
	await page.getByText('No secrets.').waitFor();

	await page.getByLabel('Secret name').fill(name);
	assert.equal(await secretField.getAttribute('aria-invalid'), 'false');
	await page.getByRole('button', { name: 'Set secret' }).click();
	await page.getByRole('status').filter({ hasText: `Secret ${name} set.` }).waitFor();
	const row = page.getByTestId('secrets-table').locator('tr', { hasText: name });
	assert.match(await row.innerText(), new RegExp(`${name}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d`));
	assert.equal(await page.getByLabel('Value', { exact: true }).inputValue(), '', 'the form forgets the value');
	assert.ok(!(await page.content()).includes(value), 'the value is nowhere on the page');
	await shot(page, '09-secrets');

	// A script reads it with secret(...).
	const admin = await apiCall('POST', '/auth/login', '', { username: adminUser, password: adminPassword });
	const deployed = await apiCall('PUT', `/apps/${slug}/scripts/reader`, admin.body.token, {
		source: `secret("${name}")\n`
	});
	assert.equal(deployed.status, 201);
	let res = await fetch(`${origin}/fn/${slug}/reader`);
	assert.equal(res.status, 200);
	assert.equal(await res.text(), value);

	// Deleted through the dialog: the script no longer gets it.
	await page.getByRole('button', { name: `Delete secret ${name}` }).click();
	await page.getByRole('dialog').getByRole('button', { name: 'Delete secret' }).click();
	await page.getByText('No secrets.').waitFor();
	await page.getByRole('status').filter({ hasText: `Secret ${name} deleted.` }).waitFor();
	res = await fetch(`${origin}/fn/${slug}/reader`);
	assert.equal(res.status, 500);
	assert.ok(!(await res.text()).includes(value));
	assert.equal((await apiCall('GET', `/apps/${slug}/secrets`, admin.body.token)).body.length, 0);
});

test('rolls a script back to an earlier version from its history', async () => {
	await page.getByLabel('New script').fill('rb');
	await page.getByRole('button', { name: 'Write it' }).click();
	await page.waitForURL(`**/ui/apps/${slug}/scripts/rb?new=1`);
	await page.locator('.cm-content').waitFor();
	await setSource(page, '"one"\n');
	await page.getByRole('button', { name: 'Deploy' }).click();
	await page.getByRole('status').filter({ hasText: 'Deployed version 1' }).waitFor();
	await setSource(page, '"two"\n');
	await page.getByRole('button', { name: 'Deploy' }).click();
	await page.getByRole('status').filter({ hasText: 'Deployed version 2' }).waitFor();
	assert.equal(await (await fetch(`${origin}/fn/${slug}/rb`)).text(), 'two');

	// Only versions that are not live can be rolled back to.
	assert.equal(await page.getByRole('button', { name: 'Roll back to version 2' }).count(), 0);
	const button = page.getByRole('button', { name: 'Roll back to version 1' });
	assert.equal(await button.innerText(), 'Roll back to this version');
	await button.click();
	await page.getByRole('dialog').getByRole('button', { name: 'Roll back' }).click();
	await page.getByRole('status').filter({ hasText: 'Rolled back to version 1: version 3 is live.' }).waitFor();
	await page.getByText('live v3').waitFor();

	const rows = page.getByTestId('versions').locator('tr');
	assert.equal(await rows.count(), 3);
	assert.match(await rows.first().innerText(), /^v3\s+live\s+rolled back from 1\s+admin/);
	assert.doesNotMatch(await rows.nth(1).innerText(), /live|rolled back/);
	assert.equal(await page.getByRole('button', { name: 'Roll back to version 3' }).count(), 0);
	await page.getByRole('button', { name: 'Roll back to version 2' }).waitFor();
	assert.equal((await page.locator('.cm-content').innerText()).trim(), '"one"', 'the editor shows the live source');
	assert.equal(await (await fetch(`${origin}/fn/${slug}/rb`)).text(), 'one');
	await shot(page, '10-rollback');

	// Back to the app, where the next step starts.
	await page.getByRole('link', { name: slug }).click();
	await page.getByRole('heading', { name: 'Secrets' }).waitFor();
});

test('creates an API key, shows it once, and revokes it', async () => {
	await page.getByRole('link', { name: 'API keys' }).click();
	// The app page has a "Secret name" field: wait for the keys page before filling its Name.
	await page.getByRole('heading', { name: 'API keys' }).waitFor();
	await page.getByLabel('Name', { exact: true }).fill('ui-key');
	await page.getByRole('button', { name: 'Create key' }).click();
	const token = await page.getByLabel('The new key').inputValue();
	assert.match(token, /^pck_/);
	await page.getByRole('button', { name: 'Copy' }).click();
	await page.getByText('Copied to the clipboard.').waitFor();
	const me = await apiCall('GET', '/whoami', token);
	assert.equal(me.status, 200);
	assert.equal(me.body.via, 'api_key');
	const row = page.getByTestId('keys-table').locator('tr', { hasText: 'ui-key' });
	assert.match(await row.innerText(), new RegExp(token.slice(0, 12)));
	await shot(page, '11-api-key');

	// Shown once: a reload lists the key without its token.
	await page.reload();
	await row.waitFor();
	assert.equal(await page.getByLabel('The new key').count(), 0);

	await page.getByRole('button', { name: 'Revoke ui-key' }).click();
	await page.getByRole('button', { name: 'Revoke key' }).click();
	await page.getByText('You have no API keys.').waitFor();
	assert.equal((await apiCall('GET', '/whoami', token)).status, 401);
});

test('a viewer sees the script read-only, without the deploy button', async () => {
	const admin = await apiCall('POST', '/auth/login', '', { username: adminUser, password: adminPassword });
	const t = admin.body.token;
	assert.equal((await apiCall('POST', '/users', t, { ...viewer, role: 'member' })).status, 201);
	assert.equal((await apiCall('PUT', `/apps/${slug}/members/${viewer.username}`, t, { role: 'viewer' })).status, 201);
	assert.equal((await apiCall('PUT', `/apps/${slug}/secrets/VIEWER_SEES`, t, { value: 'viewer-must-not-see' })).status, 201);
	const kvPut = await apiCall('PUT', `/apps/${slug}/kv/feature/beta`, t, { value: { enabled: true }, ttl_seconds: 3600 });
	assert.equal(kvPut.status, 200);

	const vp = await newPage({ width: 390, height: 844 }); // a phone
	await vp.goto(`${url}/ui/apps/${slug}/scripts/${script}`);
	await vp.waitForURL(/\/ui\/login\?next=/);
	await login(vp, viewer.username, viewer.password);
	await vp.waitForURL(`**/ui/apps/${slug}/scripts/${script}`);
	assert.match(await vp.getByTestId('whoami').innerText(), /ui-viewer\s*· Member/);
	await vp.locator('.cm-content').waitFor();
	await vp.getByText('You are a viewer of this app: the source is read only.').waitFor();
	assert.equal(await vp.getByRole('button', { name: 'Deploy' }).count(), 0);
	assert.equal(await vp.getByRole('button', { name: /Delete script/ }).count(), 0);
	assert.equal(await vp.locator('.cm-content').getAttribute('contenteditable'), 'false');
	// Viewers may still try the public endpoint.
	await vp.getByRole('button', { name: 'Send' }).click();
	assert.equal(await vp.getByTestId('try-status').innerText(), '200 OK');
	await shot(vp, '12-viewer-script-phone');
	assert.ok(
		await vp.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
		'the page fits a phone-sized screen'
	);

	await vp.getByRole('link', { name: slug }).click();
	await vp.getByRole('heading', { name: 'Members' }).waitFor();
	assert.equal(await vp.getByRole('button', { name: /Delete app/ }).count(), 0);
	assert.equal(await vp.getByLabel('New script').count(), 0);
	// Secrets and keys are listed for viewers, without the controls.
	await vp.getByTestId('secrets-table').getByText('VIEWER_SEES').waitFor();
	assert.equal(await vp.getByRole('button', { name: /Delete secret/ }).count(), 0);
	assert.equal(await vp.getByLabel('Secret name').count(), 0);
	assert.equal(await vp.getByRole('button', { name: 'Set secret' }).count(), 0);
	assert.ok(!(await vp.content()).includes('viewer-must-not-see'));
	const kvRow = vp.getByTestId('kv-table').locator('tr', { hasText: 'feature/beta' });
	assert.match(await kvRow.innerText(), /feature\/beta\s+16 B\s+\d{4}-/);
	await shot(vp, '13-viewer-app-phone');
	assert.ok(await vp.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
	await vp.context().close();
});

test('deploys a private module, labelled private with no endpoint or try-it panel', async () => {
	await page.goto(`${url}/ui/apps/${slug}`);
	await page.getByLabel('New script').fill('lib');
	await page.getByRole('button', { name: 'Write it' }).click();
	await page.waitForURL(`**/ui/apps/${slug}/scripts/lib?new=1`);
	await page.locator('.cm-content').waitFor();
	// A new script asks for no visibility: the server's default, private
	// for a module.
	assert.equal(await page.getByLabel('Visibility').inputValue(), '');
	await setSource(page, 'fn double(x) { x * 2 }\n');
	await page.getByRole('button', { name: 'Deploy' }).click();
	await page.getByRole('status').filter({ hasText: 'Deployed version 1; it is live, private.' }).waitFor();
	assert.equal(await page.getByTestId('visibility').innerText(), 'private');
	assert.equal(await page.getByLabel('Visibility').inputValue(), 'private');
	await page.getByText("Private: not on the data plane").waitFor();
	assert.equal(await page.getByRole('button', { name: 'Send' }).count(), 0, 'no try-it panel');
	assert.equal(await page.getByText(`/fn/${slug}/lib`).count(), 0, 'no endpoint');
	assert.equal((await fetch(`${origin}/fn/${slug}/lib`)).status, 404);
	await shot(page, '14a-private-script');

	// On the app page: private, without an endpoint; hello stays public.
	await page.getByRole('link', { name: slug }).click();
	const lib = page.locator('tr', { has: page.getByRole('link', { name: 'lib', exact: true }) });
	await lib.waitFor();
	assert.match(await lib.innerText(), /^lib\s+v1\s+private\s+never\s+not on the data plane/);
	assert.equal(await lib.getByText('/fn/').count(), 0);
	const hello = page.locator('tr', { has: page.getByRole('link', { name: script, exact: true }) });
	assert.match(await hello.innerText(), new RegExp(`public[\\s\\S]*/fn/${slug}/${script}`));
	await shot(page, '14b-app-visibility');
});

test("switches a script's visibility on deploy", async () => {
	await page.getByRole('link', { name: script, exact: true }).click();
	await page.locator('.cm-content').waitFor();
	assert.equal(await page.getByLabel('Visibility').inputValue(), 'public');
	const deploy = page.getByRole('button', { name: 'Deploy' });
	assert.ok(await deploy.isDisabled(), 'nothing to deploy yet');
	await page.getByLabel('Visibility').selectOption('private');
	assert.ok(await deploy.isEnabled(), 'a new visibility is something to deploy');
	await deploy.click();
	await page.getByRole('status').filter({ hasText: 'Deployed version 4; it is live, private.' }).waitFor();
	assert.equal(await page.getByTestId('visibility').innerText(), 'private');
	assert.equal(await page.getByRole('button', { name: 'Send' }).count(), 0);
	assert.equal((await fetch(`${origin}/fn/${slug}/${script}`)).status, 404);

	// And back: public again, served, with its try-it panel.
	await page.getByLabel('Visibility').selectOption('public');
	await deploy.click();
	await page.getByRole('status').filter({ hasText: 'Deployed version 5; it is live.' }).waitFor();
	assert.equal(await page.getByTestId('visibility').innerText(), 'public');
	await page.getByRole('button', { name: 'Send' }).waitFor();
	assert.equal((await fetch(`${origin}/fn/${slug}/${script}`)).status, 200);
	const admin = await apiCall('POST', '/auth/login', '', { username: adminUser, password: adminPassword });
	assert.equal((await apiCall('GET', `/apps/${slug}/scripts/${script}`, admin.body.token)).body.visibility, 'public');
});

test("filters the logs by HTTP status, showing only a script's 4xx responses", async () => {
	const admin = await apiCall('POST', '/auth/login', '', { username: adminUser, password: adminPassword });
	const deployed = await apiCall('PUT', `/apps/${slug}/scripts/teapot`, admin.body.token, {
		source: 'response(418, "short and stout")\n'
	});
	assert.equal(deployed.status, 201);
	for (let i = 0; i < 2; i++) assert.equal((await fetch(`${origin}/fn/${slug}/teapot`)).status, 418);
	assert.equal((await fetch(`${origin}/fn/${slug}/${script}`)).status, 200);
	await page.waitForTimeout(500); // a few log flushes

	await page.goto(`${url}/ui/apps/${slug}/logs`);
	const table = page.getByTestId('logs-table');
	const rows = table.locator('tbody tr');
	await table.waitFor();
	const all = await rows.allInnerTexts();
	assert.ok(all.some((t) => /hello[\s\S]*200/.test(t)), 'unfiltered, the 200s are listed');

	const filter = page.getByLabel('HTTP status');
	await filter.selectOption('4xx');
	await page.waitForURL(/[?&]http=4xx/);
	await page.getByText('Page 1 of 1 · 2 records').waitFor();
	for (const t of await rows.allInnerTexts()) {
		assert.match(t, /^ok\s[\s\S]*teapot v1\s+http\s+418\s/, 'a 4xx row: ' + t);
	}
	await shot(page, '14c-logs-4xx');

	// A reload keeps the filter; an exact status and another class filter too.
	await page.reload();
	await page.getByText('Page 1 of 1 · 2 records').waitFor();
	assert.equal(await filter.inputValue(), '4xx');
	await page.goto(`${url}/ui/apps/${slug}/logs?http=418`);
	await page.getByText('Page 1 of 1 · 2 records').waitFor();
	assert.equal(await filter.inputValue(), '418');
	await filter.selectOption('5xx');
	// The reader's 500 after its secret was deleted.
	await page.getByText('Page 1 of 1 · 1 record').waitFor();
	assert.match(await rows.first().innerText(), /reader[\s\S]*500/);

	// A status the server cannot read is its clear 422, not an empty list
	// nor the rows of the previous filter.
	await page.goto(`${url}/ui/apps/${slug}/logs?http=4x`);
	const refused = page.getByRole('alert');
	await refused.waitFor();
	assert.match(await refused.innerText(), /http_status/);
	assert.equal(await table.count(), 0);
	await filter.selectOption('5xx');
	await page.getByText('Page 1 of 1 · 1 record').waitFor();
	assert.equal(await page.getByRole('alert').count(), 0, 'a good filter clears the error');
	await page.goBack(); // within the app, from a listed filter
	await refused.waitFor();
	assert.equal(await table.count(), 0, 'no rows of the previous filter');
	await page.goForward();
	await page.getByText('Page 1 of 1 · 1 record').waitFor();

	// Jobs have no HTTP status: choosing a job state clears and disables the filter.
	await page.getByLabel('Status', { exact: true }).selectOption('dead');
	await page.getByText('Nothing logged that matches.').waitFor();
	assert.ok(await filter.isDisabled());
	assert.equal(await filter.inputValue(), '');
	assert.ok(!page.url().includes('http='));
	await page.getByRole('alert').count().then((n) => assert.equal(n, 0, 'no error'));
});

test('lists the releases of project deploys and rolls one back', async () => {
	const admin = await apiCall('POST', '/auth/login', '', { username: adminUser, password: adminPassword });
	for (const [source, message] of [
		['"one"\n', 'first project'],
		['"two"\n', 'second project']
	]) {
		const res = await apiCall('POST', `/apps/${slug}/deploy`, admin.body.token, {
			message,
			scripts: [{ name: 'proj', source, file: 'proj.rhai' }]
		});
		assert.equal(res.status, 200, JSON.stringify(res.body));
	}
	assert.equal(await (await fetch(`${origin}/fn/${slug}/proj`)).text(), 'two');

	await page.goto(`${url}/ui/apps/${slug}`);
	const table = page.getByTestId('releases-table');
	const rows = table.locator('tbody tr');
	await table.waitFor();
	assert.equal(await rows.count(), 2);
	assert.match(await rows.first().innerText(), /^2\s[\s\S]*admin\s+deployed\s+second project\s+update script proj v1 → v2/);
	assert.match(await rows.nth(1).innerText(), /^1\s[\s\S]*first project\s+create script proj v1, public/);

	await page.getByRole('button', { name: 'Roll back to release 1' }).click();
	await page.getByRole('dialog').getByRole('button', { name: 'Roll back' }).click();
	await page.getByRole('status').filter({ hasText: 'Release 3 made the scripts of release 1 live again.' }).waitFor();
	assert.equal(await rows.count(), 3);
	assert.match(await rows.first().innerText(), /^3\s+\(rollback to 1\)[\s\S]*update script proj v2 → v3 \(the source of v1\)/);
	assert.equal(await (await fetch(`${origin}/fn/${slug}/proj`)).text(), 'one');
	await shot(page, '14d-releases');

	// Again: its sources are live already, which the dialog says.
	await page.getByRole('button', { name: 'Roll back to release 1' }).click();
	const dialog = page.getByRole('dialog');
	await dialog.getByRole('button', { name: 'Roll back' }).click();
	await dialog.getByRole('alert').filter({ hasText: 'already run the versions of release 1' }).waitFor();
	await dialog.getByRole('button', { name: 'Cancel' }).click();
	assert.equal(await rows.count(), 3);

	// A viewer may read them too.
	const viewerLogin = await apiCall('POST', '/auth/login', '', viewer);
	const list = await apiCall('GET', `/apps/${slug}/releases`, viewerLogin.body.token);
	assert.equal(list.status, 200);
	assert.deepEqual(
		list.body.map((r) => r.id),
		[3, 2, 1]
	);
});

test('shows the check report of a release deployed with a check', async () => {
	const admin = await apiCall('POST', '/auth/login', '', { username: adminUser, password: adminPassword });
	// Traffic for proj, which answers "one" since the rollback.
	for (const q of ['a', 'b']) assert.equal(await (await fetch(`${origin}/fn/${slug}/proj?q=${q}`)).text(), 'one');
	let res;
	for (let i = 0; i < 100; i++) {
		res = await apiCall('POST', `/apps/${slug}/deploy`, admin.body.token, {
			message: 'checked',
			check: 5,
			dry_run: true,
			scripts: [{ name: 'proj', source: '"uno"\n', file: 'proj.rhai' }]
		});
		if (res.body.check?.summary.checked === 2) break;
		await new Promise((r) => setTimeout(r, 50)); // the records are written in batches
	}
	assert.equal(res.body.check?.summary.checked, 2, JSON.stringify(res.body));
	res = await apiCall('POST', `/apps/${slug}/deploy`, admin.body.token, {
		message: 'checked',
		check: 5,
		scripts: [{ name: 'proj', source: '"uno"\n', file: 'proj.rhai' }]
	});
	assert.equal(res.status, 200, JSON.stringify(res.body));
	assert.equal(res.body.release.check.summary.different, 2);

	await page.goto(`${url}/ui/apps/${slug}`);
	const check = page.getByTestId('releases-table').locator('tbody tr').first().getByTestId('release-check');
	await check.getByText('Check: 0 of 2 same, 2 different').waitFor();
	await check.getByText('2 not the same').click();
	const detail = check.locator('pre').first();
	await detail.waitFor();
	assert.match(await detail.innerText(), /body:\n\s+-one\n\s+\+uno/);
	await shot(page, '14e-release-check');
});

test('shows a canary release with its counts, and promotes or aborts one', async () => {
	const admin = await apiCall('POST', '/auth/login', '', { username: adminUser, password: adminPassword });
	const deploy = (source) =>
		apiCall('POST', `/apps/${slug}/deploy`, admin.body.token, {
			message: 'try ' + source.trim(),
			scripts: [{ name: 'proj', source, file: 'proj.rhai' }],
			canary: { percent: 50, window_seconds: 600, min_requests: 1000 }
		});
	let res = await deploy('"four"\n');
	assert.equal(res.status, 200, JSON.stringify(res.body));
	assert.equal(res.body.release.state, 'canary');

	await page.goto(`${url}/ui/apps/${slug}`);
	const rows = page.getByTestId('releases-table').locator('tbody tr');
	await page.getByTestId('canary-5').waitFor();
	assert.match(await rows.first().innerText(), /^5\s[\s\S]*canary\s+50% of the traffic, base release 4, until/);
	assert.match(await page.getByTestId('canary-5').innerText(), /canary: 0 of 0 failed \(0\.0%\)\s+previous: 0 of 0 failed/);
	await shot(page, '14f-canary');
	await page.getByRole('button', { name: 'Promote release 5' }).click();
	await page.getByTestId('canary-5').getByText('promoted by admin').waitFor();
	assert.match(await rows.first().innerText(), /^5\s[\s\S]*promoted\s/);
	assert.equal(await page.getByRole('button', { name: 'Promote release 5' }).count(), 0);
	assert.equal(await (await fetch(`${origin}/fn/${slug}/proj`)).text(), 'four');

	res = await deploy('"five"\n');
	assert.equal(res.status, 200, JSON.stringify(res.body));
	await page.reload();
	await page.getByRole('button', { name: 'Abort release 6' }).click();
	await page.getByTestId('canary-6').getByText('aborted by admin').waitFor();
	assert.match(await rows.first().innerText(), /^7\s+\(rollback to 5\)[\s\S]*canary release 6 aborted: aborted by admin/);
	assert.equal(await (await fetch(`${origin}/fn/${slug}/proj`)).text(), 'four');
});

test('deletes the app after typing its slug', async () => {
	await page.getByRole('link', { name: 'Apps', exact: true }).first().click();
	await page.getByRole('link', { name: slug }).click();
	await page.getByRole('button', { name: 'Delete app…' }).click();
	const confirm = page.getByRole('dialog').getByRole('button', { name: 'Delete app' });
	assert.ok(await confirm.isDisabled(), 'disabled until the slug is typed');
	await page.getByLabel(`Type ${slug} to confirm`).fill(slug.slice(0, -1));
	assert.ok(await confirm.isDisabled());
	await page.getByLabel(`Type ${slug} to confirm`).fill(slug);
	await shot(page, '14-delete-app');
	await confirm.click();
	await page.waitForURL(/\/ui\/$/);
	await page.getByText('No apps yet.').waitFor();
});

test('logs out, ending the session', async () => {
	const token = await page.evaluate(() => localStorage.getItem('picloud.token'));
	assert.match(token, /^pcs_/);
	await page.getByRole('button', { name: 'Log out' }).click();
	await page.waitForURL(/\/ui\/login$/);
	assert.equal(await page.evaluate(() => localStorage.getItem('picloud.token')), null);
	assert.equal((await apiCall('GET', '/whoami', token)).status, 401);
	await page.goto(url + '/ui/keys');
	await page.waitForURL(/\/ui\/login\?next=%2Fui%2Fkeys/);
});

test('made no request outside the server, and no page failed', () => {
	assert.deepEqual(external, []);
	assert.deepEqual(problems, []);
});
