import adapter from '@sveltejs/adapter-static';

// The dashboard is a single-page app: every route renders in the browser
// from one fallback page, served by the Go binary under /ui/ (package
// internal/ui). PICLOUD_UI_OUT lets check-dist.sh build into a scratch
// folder and compare it with the committed dist/.
const out = process.env.PICLOUD_UI_OUT || 'dist';

/** @type {import('@sveltejs/kit').Config} */
export default {
	kit: {
		adapter: adapter({ pages: out, assets: out, fallback: 'index.html', strict: true }),
		paths: { base: '/ui', relative: false },
		// A fixed name keeps builds reproducible (the default is a timestamp),
		// so that the committed dist/ can be checked against the sources.
		version: { name: 'picloud' }
	}
};
