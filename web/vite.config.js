import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
	plugins: [sveltekit()],
	build: { reportCompressedSize: false },
	server: {
		// `npm run dev` against a local picloud: the API and the data plane.
		proxy: { '/api': 'http://127.0.0.1:8080', '/fn': 'http://127.0.0.1:8080' }
	}
});
