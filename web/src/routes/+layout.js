// The dashboard renders in the browser only: the Go binary serves static
// files and the data comes from /api/v1 with the user's token.
export const ssr = false;
export const prerender = false;
