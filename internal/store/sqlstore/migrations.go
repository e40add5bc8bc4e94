package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migration is one step of the schema's history, in the text of each
// backend. An empty text is a step the backend does not need: the
// histories of SQLite and PostgreSQL were kept apart before they were
// merged, and PostgreSQL's first migration created at once what took
// SQLite five.
type migration struct {
	sqlite, postgres string
}

// text returns the migration's SQL for the backend.
func (m migration) text(d *dialect) string { return d.pick(m.sqlite, m.postgres) }

// migrations is the schema's history, oldest first, the same numbers for
// both backends. It is append-only: a landed migration is never edited or
// removed (TestMigrationsNeverChange keeps a checksum of each), and a
// change of schema is a new entry with the text of both backends.
//
// Each migration runs in its own transaction with the record of its
// number, so a failure, or a process killed halfway, leaves the database
// at the last version that applied completely. SQLite keeps the version in
// PRAGMA user_version; PostgreSQL in the table schema_history, one row per
// migration.
//
// In PostgreSQL, text that is compared or sorted (names, slugs, IDs) uses
// the "C" collation: byte order, as SQLite's, whatever the database's
// locale, and the indexes serve the ORDER BY clauses.
var migrations = []migration{
	// 1: users and their credentials.
	{
		sqlite: `
CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	username      TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL,
	role          TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
	created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
	token_hash TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_keys (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name       TEXT    NOT NULL,
	token_hash TEXT    NOT NULL UNIQUE,
	prefix     TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	last_used  INTEGER -- NULL when never used
);
CREATE INDEX api_keys_user_id ON api_keys (user_id);
`,
		// PostgreSQL: its first migration created the whole schema of
		// SQLite's fifth version at once. A job's run_at is when it next needs attention: its
		// next attempt while it waits, the end of its lease while it runs,
		// NULL once it ended; so one index finds both what to run and what a
		// dead node left behind. Logs and jobs keep the script by name, so
		// that they outlive it.
		postgres: `
CREATE TABLE users (
	id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username      text        COLLATE "C" NOT NULL UNIQUE,
	password_hash text        NOT NULL,
	role          text        NOT NULL CHECK (role IN ('admin', 'member')),
	created_at    timestamptz NOT NULL
);

CREATE TABLE sessions (
	token_hash text        PRIMARY KEY,
	user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_keys (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name       text        NOT NULL,
	token_hash text        NOT NULL UNIQUE,
	prefix     text        NOT NULL,
	created_at timestamptz NOT NULL,
	last_used  timestamptz -- NULL when never used
);
CREATE INDEX api_keys_user_id ON api_keys (user_id);

CREATE TABLE apps (
	id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	slug        text        COLLATE "C" NOT NULL UNIQUE,
	name        text        NOT NULL DEFAULT '',
	description text        NOT NULL DEFAULT '',
	limits      jsonb       NOT NULL DEFAULT '{}', -- store.AppLimits
	created_at  timestamptz NOT NULL
);

CREATE TABLE members (
	app_id     bigint      NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       text        NOT NULL CHECK (role IN ('viewer', 'editor')),
	created_at timestamptz NOT NULL,
	PRIMARY KEY (app_id, user_id)
);
CREATE INDEX members_user_id ON members (user_id);

CREATE TABLE scripts (
	id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	app_id       bigint      NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	name         text        COLLATE "C" NOT NULL,
	live_version integer     NOT NULL DEFAULT 0,
	max_attempts integer     NOT NULL DEFAULT 0,
	created_at   timestamptz NOT NULL,
	updated_at   timestamptz NOT NULL,
	UNIQUE (app_id, name)
);

CREATE TABLE versions (
	script_id  bigint      NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
	version    integer     NOT NULL,
	source     text        NOT NULL,
	created_by bigint      REFERENCES users (id) ON DELETE SET NULL,
	created_at timestamptz NOT NULL,
	PRIMARY KEY (script_id, version)
);
CREATE INDEX versions_created_by ON versions (created_by);

CREATE TABLE invocations (
	id           text        COLLATE "C" PRIMARY KEY,
	app_id       bigint      NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	script       text        COLLATE "C" NOT NULL,
	version      integer     NOT NULL,
	trigger_type text        NOT NULL,
	started_at   timestamptz NOT NULL,
	duration     bigint      NOT NULL, -- nanoseconds
	status       text        NOT NULL,
	http_status  integer     NOT NULL,
	operations   bigint      NOT NULL,
	summary      text        NOT NULL,
	output       text        NOT NULL,
	job_id       text        COLLATE "C" NOT NULL DEFAULT '',
	attempt      integer     NOT NULL DEFAULT 0
);
CREATE INDEX invocations_app_started ON invocations (app_id, started_at DESC, id DESC);
CREATE INDEX invocations_started ON invocations (started_at DESC, id DESC);
CREATE INDEX invocations_job ON invocations (job_id) WHERE job_id <> '';

CREATE TABLE schedules (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	app_id     bigint      NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	script_id  bigint      NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
	cron       text        NOT NULL,
	timezone   text        NOT NULL,
	payload    text        NOT NULL DEFAULT '',
	enabled    boolean     NOT NULL,
	next_run   timestamptz, -- NULL when disabled
	last_run   timestamptz, -- NULL before the first firing
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL
);
CREATE INDEX schedules_app_id ON schedules (app_id);
CREATE INDEX schedules_script_id ON schedules (script_id);
CREATE INDEX schedules_due ON schedules (next_run) WHERE enabled AND next_run IS NOT NULL;

CREATE TABLE jobs (
	id              text        COLLATE "C" PRIMARY KEY,
	app_id          bigint      NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	script          text        COLLATE "C" NOT NULL,
	trigger_type    text        NOT NULL,
	state           text        NOT NULL CHECK (state IN ('queued', 'running', 'ok', 'error', 'dead')),
	attempts        integer     NOT NULL DEFAULT 0,
	max_attempts    integer     NOT NULL,
	run_at          timestamptz, -- NULL once the job ended
	owner           text        NOT NULL DEFAULT '',
	request         bytea,
	schedule_id     bigint      NOT NULL DEFAULT 0, -- no reference: the job outlives its schedule
	scheduled_at    timestamptz,
	payload         text        NOT NULL DEFAULT '',
	last_invocation text        NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state IN ('queued', 'error', 'running');
CREATE INDEX jobs_app_state ON jobs (app_id, state);
CREATE INDEX jobs_app_created ON jobs (app_id, created_at DESC, id DESC);
CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC);
`,
	},
	// 2: apps and their members.
	{
		sqlite: `
CREATE TABLE apps (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	slug        TEXT    NOT NULL UNIQUE,
	name        TEXT    NOT NULL DEFAULT '',
	description TEXT    NOT NULL DEFAULT '',
	limits      TEXT    NOT NULL DEFAULT '{}', -- store.AppLimits as JSON
	created_at  INTEGER NOT NULL
);

CREATE TABLE members (
	app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       TEXT    NOT NULL CHECK (role IN ('viewer', 'editor')),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (app_id, user_id)
);
CREATE INDEX members_user_id ON members (user_id);
`,
		// PostgreSQL: in migration 1, which created the whole schema of
		// SQLite's fifth version at once.
		postgres: "",
	},
	// 3: scripts and their immutable versions.
	{
		sqlite: `
CREATE TABLE scripts (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	app_id       INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	name         TEXT    NOT NULL,
	live_version INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	UNIQUE (app_id, name)
);

CREATE TABLE versions (
	script_id  INTEGER NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
	version    INTEGER NOT NULL,
	source     TEXT    NOT NULL,
	created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (script_id, version)
);
CREATE INDEX versions_created_by ON versions (created_by);
`,
		// PostgreSQL: in migration 1, which created the whole schema of
		// SQLite's fifth version at once.
		postgres: "",
	},
	// 4: invocation logs. The script is kept by name so that the log of a
	// deleted script stays readable until it is pruned.
	{
		sqlite: `
CREATE TABLE invocations (
	id           TEXT    PRIMARY KEY,
	app_id       INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	script       TEXT    NOT NULL,
	version      INTEGER NOT NULL,
	trigger_type TEXT    NOT NULL,
	started_at   INTEGER NOT NULL,
	duration     INTEGER NOT NULL, -- nanoseconds
	status       TEXT    NOT NULL,
	http_status  INTEGER NOT NULL,
	operations   INTEGER NOT NULL,
	summary      TEXT    NOT NULL,
	output       TEXT    NOT NULL
);
CREATE INDEX invocations_app_started ON invocations (app_id, started_at DESC, id DESC);
CREATE INDEX invocations_started ON invocations (started_at DESC, id DESC);
`,
		// PostgreSQL: in migration 1, which created the whole schema of
		// SQLite's fifth version at once.
		postgres: "",
	},
	// 5: schedules and the job queue. A job's run_at is when it next needs
	// attention: its next attempt while it waits, the end of its lease
	// while it runs, so that one index finds both what to run and what a
	// dead node left behind. Jobs keep the script by name, as logs do.
	{
		sqlite: `
ALTER TABLE scripts ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 0;

ALTER TABLE invocations ADD COLUMN job_id TEXT NOT NULL DEFAULT '';
ALTER TABLE invocations ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
CREATE INDEX invocations_job ON invocations (job_id) WHERE job_id <> '';

CREATE TABLE schedules (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	script_id  INTEGER NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
	cron       TEXT    NOT NULL,
	timezone   TEXT    NOT NULL,
	payload    TEXT    NOT NULL DEFAULT '',
	enabled    INTEGER NOT NULL,
	next_run   INTEGER NOT NULL DEFAULT 0, -- 0 when disabled
	last_run   INTEGER NOT NULL DEFAULT 0, -- 0 before the first firing
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX schedules_app_id ON schedules (app_id);
CREATE INDEX schedules_script_id ON schedules (script_id);
CREATE INDEX schedules_due ON schedules (next_run) WHERE enabled = 1 AND next_run > 0;

CREATE TABLE jobs (
	id              TEXT    PRIMARY KEY,
	app_id          INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	script          TEXT    NOT NULL,
	trigger_type    TEXT    NOT NULL,
	state           TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'ok', 'error', 'dead')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	max_attempts    INTEGER NOT NULL,
	run_at          INTEGER NOT NULL,
	owner           TEXT    NOT NULL DEFAULT '',
	request         BLOB,
	schedule_id     INTEGER NOT NULL DEFAULT 0,
	scheduled_at    INTEGER NOT NULL DEFAULT 0,
	payload         TEXT    NOT NULL DEFAULT '',
	last_invocation TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state IN ('queued', 'error', 'running');
CREATE INDEX jobs_app_state ON jobs (app_id, state);
CREATE INDEX jobs_app_created ON jobs (app_id, created_at DESC, id DESC);
CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC);
`,
		// PostgreSQL: in migration 1, which created the whole schema of
		// SQLite's fifth version at once.
		postgres: "",
	},
	// 6: an app's outbound HTTP policy, store.AppOutbound as JSON.
	{
		sqlite: `
ALTER TABLE apps ADD COLUMN outbound TEXT NOT NULL DEFAULT '{}';
`,
		// PostgreSQL: its migration 2 before the histories were merged.
		postgres: `
ALTER TABLE apps ADD COLUMN outbound jsonb NOT NULL DEFAULT '{}';
`,
	},
	// 7: apps' secrets, sealed by package secrets (never the plain value).
	{
		sqlite: `
CREATE TABLE app_secrets (
	app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	name       TEXT    NOT NULL,
	sealed     BLOB    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (app_id, name)
);
`,
		// PostgreSQL: its migration 3 before the histories were merged.
		postgres: `
CREATE TABLE app_secrets (
	app_id     bigint      NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	name       text        COLLATE "C" NOT NULL,
	sealed     bytea       NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (app_id, name)
);
`,
	},
	// 8: versions.rolled_back_from, the version a rollback copied.
	{
		sqlite: `ALTER TABLE versions ADD COLUMN rolled_back_from INTEGER;`,
		// PostgreSQL: its migration 4 before the histories were merged.
		postgres: `ALTER TABLE versions ADD COLUMN rolled_back_from integer;`,
	},
	// 9: the HTTP exchange of an invocation (request and response, as
	// compact JSON; see store.EncodeRequest), for the logs and replay.
	// NULL for records without one: schedules, and older records.
	{
		sqlite: `
ALTER TABLE invocations ADD COLUMN request BLOB;
ALTER TABLE invocations ADD COLUMN response BLOB;
`,
		// PostgreSQL (its migration 5): the HTTP exchange of an invocation (request and response, as
		// compact JSON; see store.EncodeRequest), for the logs and replay.
		// NULL for records without one: schedules, and older records. bytea,
		// not jsonb: nothing queries inside it, and jsonb refuses \u0000.
		postgres: `
ALTER TABLE invocations ADD COLUMN request bytea, ADD COLUMN response bytea;
`,
	},
	// 10: the key-value store of each app. kv_usage keeps each app's
	// totals, changed in the transaction of every write, so that a quota
	// check reads one row instead of summing the app's keys. Keys compare
	// byte by byte (BINARY), the order of code points.
	{
		sqlite: `
CREATE TABLE kv (
	app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	key        TEXT    NOT NULL,
	value      TEXT    NOT NULL, -- JSON
	size       INTEGER NOT NULL, -- bytes of value
	expires_at INTEGER,          -- NULL: never
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (app_id, key)
); -- with a rowid: values of many kilobytes would bloat a WITHOUT ROWID tree
CREATE INDEX kv_expires ON kv (app_id, expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE kv_usage (
	app_id INTEGER PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	keys   INTEGER NOT NULL, -- rows of kv, expired ones included
	bytes  INTEGER NOT NULL  -- bytes of their keys and values
);
`,
		// PostgreSQL (its migration 6): the key-value store of each app (SQLite's tenth version).
		// kv_usage keeps each app's totals, changed in the transaction of
		// every write, which first locks the app's row of it: writes to one
		// app's keys are serialised, and a quota check reads one row instead
		// of summing the app's keys. Values are JSON kept as text: jsonb would
		// reorder their keys and refuse \u0000.
		postgres: `
CREATE TABLE kv (
	app_id     bigint      NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	key        text        COLLATE "C" NOT NULL,
	value      text        NOT NULL,
	size       bigint      NOT NULL, -- bytes of value
	expires_at timestamptz,          -- NULL: never
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (app_id, key)
);
CREATE INDEX kv_expires ON kv (app_id, expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE kv_usage (
	app_id bigint PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	keys   bigint NOT NULL, -- rows of kv, expired ones included
	bytes  bigint NOT NULL  -- bytes of their keys and values
);
`,
	},
	// 11: one b-tree fewer per logged invocation. Every query of the
	// data plane and the API names the app, and pruning walks the apps'
	// index (see PruneInvocations); keeping a global index by start time
	// cost a quarter of the log writer's time (BenchmarkInsertInvocations).
	{
		sqlite: `DROP INDEX invocations_started;`,
		// PostgreSQL: none; its index on the start time was kept.
		postgres: "",
	},
	// 12: fair claims of jobs (see ClaimJob). jobs_app_due finds an
	// app's due jobs and counts its running ones without a scan of the
	// queue; job_turns keeps when each app last had a job claimed, so
	// that claims go round the apps with due jobs.
	{
		sqlite: `
CREATE INDEX jobs_app_due ON jobs (app_id, run_at, id) WHERE state IN ('queued', 'error', 'running');
CREATE TABLE job_turns (
	app_id     INTEGER PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	claimed_at INTEGER NOT NULL
);
`,
		// PostgreSQL: its migration 7 before the histories were merged.
		postgres: `
CREATE INDEX jobs_app_due ON jobs (app_id, run_at, id) WHERE state IN ('queued', 'error', 'running');
CREATE TABLE job_turns (
	app_id     bigint      PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	claimed_at timestamptz NOT NULL
);
`,
	},
	// 13: the bytes of the HTTP exchanges recorded with each app's
	// invocation records, kept up to date by the writes, so that the
	// recording quota reads one row instead of summing the app's records
	// (quotas.go).
	{
		sqlite: `
CREATE TABLE recording_usage (
	app_id INTEGER PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	bytes  INTEGER NOT NULL -- bytes of request and response of the app's invocations
);
INSERT INTO recording_usage (app_id, bytes)
	SELECT app_id, sum(coalesce(length(request), 0) + coalesce(length(response), 0)) FROM invocations GROUP BY app_id;
`,
		// PostgreSQL: its migration 8 before the histories were merged.
		postgres: `
CREATE TABLE recording_usage (
	app_id bigint PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	bytes  bigint NOT NULL -- bytes of request and response of the app's invocations
);
INSERT INTO recording_usage (app_id, bytes)
	SELECT app_id, sum(coalesce(octet_length(request), 0) + coalesce(octet_length(response), 0)) FROM invocations GROUP BY app_id;
`,
	},
	// 14: each app's pending jobs and the bytes of their stored requests,
	// kept by triggers whatever statement moves a job in or out of the
	// pending states, so that an enqueue checks the app's queue bounds by
	// reading one row instead of walking its pending jobs
	// (BenchmarkPendingUsage).
	{
		sqlite: `
CREATE TABLE queue_usage (
	app_id INTEGER PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	jobs   INTEGER NOT NULL, -- pending jobs: queued, error (awaiting a retry), running
	bytes  INTEGER NOT NULL  -- bytes of their requests
);
INSERT INTO queue_usage (app_id, jobs, bytes) SELECT id, 0, 0 FROM apps;
UPDATE queue_usage SET
	jobs = (SELECT count(*) FROM jobs j WHERE j.app_id = queue_usage.app_id AND j.state IN ('queued', 'error', 'running')),
	bytes = (SELECT coalesce(sum(length(request)), 0) FROM jobs j WHERE j.app_id = queue_usage.app_id AND j.state IN ('queued', 'error', 'running'));
CREATE TRIGGER apps_queue_usage AFTER INSERT ON apps BEGIN
	INSERT INTO queue_usage (app_id, jobs, bytes) VALUES (NEW.id, 0, 0);
END;
CREATE TRIGGER jobs_queue_insert AFTER INSERT ON jobs WHEN NEW.state IN ('queued', 'error', 'running') BEGIN
	UPDATE queue_usage SET jobs = jobs + 1, bytes = bytes + coalesce(length(NEW.request), 0) WHERE app_id = NEW.app_id;
END;
CREATE TRIGGER jobs_queue_delete AFTER DELETE ON jobs WHEN OLD.state IN ('queued', 'error', 'running') BEGIN
	UPDATE queue_usage SET jobs = jobs - 1, bytes = bytes - coalesce(length(OLD.request), 0) WHERE app_id = OLD.app_id;
END;
CREATE TRIGGER jobs_queue_update AFTER UPDATE OF state, request ON jobs
WHEN (OLD.state IN ('queued', 'error', 'running')) <> (NEW.state IN ('queued', 'error', 'running'))
	OR OLD.request IS NOT NEW.request BEGIN
	UPDATE queue_usage SET
		jobs = jobs - (OLD.state IN ('queued', 'error', 'running')) + (NEW.state IN ('queued', 'error', 'running')),
		bytes = bytes
			- CASE WHEN OLD.state IN ('queued', 'error', 'running') THEN coalesce(length(OLD.request), 0) ELSE 0 END
			+ CASE WHEN NEW.state IN ('queued', 'error', 'running') THEN coalesce(length(NEW.request), 0) ELSE 0 END
	WHERE app_id = NEW.app_id;
END;
`,
		// PostgreSQL: its migration 9 before the histories were merged.
		postgres: `
CREATE TABLE queue_usage (
	app_id bigint PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	jobs   bigint NOT NULL, -- pending jobs: queued, error (awaiting a retry), running
	bytes  bigint NOT NULL  -- bytes of their requests
);
INSERT INTO queue_usage (app_id, jobs, bytes)
	SELECT a.id, count(j.id), coalesce(sum(octet_length(j.request)), 0)
	FROM apps a LEFT JOIN jobs j ON j.app_id = a.id AND j.state IN ('queued', 'error', 'running')
	GROUP BY a.id;

-- The functions keep the schema's search_path, so that they find
-- queue_usage whoever's session fires them.
CREATE FUNCTION apps_queue_usage() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	INSERT INTO queue_usage (app_id, jobs, bytes) VALUES (NEW.id, 0, 0);
	RETURN NULL;
END $$;
CREATE TRIGGER apps_queue_usage AFTER INSERT ON apps FOR EACH ROW EXECUTE FUNCTION apps_queue_usage();

-- jobs_queue_usage applies a job's change to its app's row: the old
-- version goes out if it was pending, the new one comes in if it is.
CREATE FUNCTION jobs_queue_usage() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
	d_jobs  bigint := 0;
	d_bytes bigint := 0;
	app     bigint;
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state IN ('queued', 'error', 'running') THEN
		d_jobs := d_jobs - 1;
		d_bytes := d_bytes - coalesce(octet_length(OLD.request), 0);
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state IN ('queued', 'error', 'running') THEN
		d_jobs := d_jobs + 1;
		d_bytes := d_bytes + coalesce(octet_length(NEW.request), 0);
	END IF;
	IF d_jobs = 0 AND d_bytes = 0 THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'DELETE' THEN app := OLD.app_id; ELSE app := NEW.app_id; END IF;
	UPDATE queue_usage SET jobs = jobs + d_jobs, bytes = bytes + d_bytes WHERE app_id = app;
	RETURN NULL;
END $$;
CREATE TRIGGER jobs_queue_usage AFTER INSERT OR DELETE OR UPDATE OF state, request ON jobs
	FOR EACH ROW EXECUTE FUNCTION jobs_queue_usage();
`,
	},
	// 15: a private script is not on the data plane (see
	// store.Script.Private); the scripts deployed before stay public.
	{
		sqlite: `ALTER TABLE scripts ADD COLUMN private INTEGER NOT NULL DEFAULT 0;`,
		// PostgreSQL: its migration 10 before the histories were merged.
		postgres: `ALTER TABLE scripts ADD COLUMN private boolean NOT NULL DEFAULT false;`,
	},
	// 16: the releases of each app: its project deploys and the
	// rollbacks to them, numbered per app. The script versions a release
	// made live and the changes it made are JSON (store.ReleaseScript,
	// store.ReleaseChange): they are read with the release, never
	// queried.
	{
		sqlite: `
CREATE TABLE releases (
	app_id           INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	id               INTEGER NOT NULL,
	message          TEXT    NOT NULL DEFAULT '',
	created_by       INTEGER REFERENCES users (id) ON DELETE SET NULL,
	created_at       INTEGER NOT NULL,
	rolled_back_from INTEGER NOT NULL DEFAULT 0,
	scripts          TEXT    NOT NULL, -- JSON: [{script_id, name, version}]
	changes          TEXT    NOT NULL, -- JSON: [{action, kind, name, detail}]
	PRIMARY KEY (app_id, id)
);
CREATE INDEX releases_created_by ON releases (created_by);
`,
		postgres: `
CREATE TABLE releases (
	app_id           bigint      NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	id               bigint      NOT NULL,
	message          text        NOT NULL DEFAULT '',
	created_by       bigint      REFERENCES users (id) ON DELETE SET NULL,
	created_at       timestamptz NOT NULL,
	rolled_back_from bigint      NOT NULL DEFAULT 0,
	scripts          text        NOT NULL, -- JSON: [{script_id, name, version}]
	changes          text        NOT NULL, -- JSON: [{action, kind, name, detail}]
	PRIMARY KEY (app_id, id)
);
CREATE INDEX releases_created_by ON releases (created_by);
`,
	},
	// 17: the effect journal of an invocation (store.EncodeJournal:
	// JSON, compressed when long), for the logs and sandboxed replays.
	// NULL for runs without an effect, and for older records. It counts
	// in the recording quota with the exchange.
	{
		sqlite:   `ALTER TABLE invocations ADD COLUMN journal BLOB;`,
		postgres: `ALTER TABLE invocations ADD COLUMN journal bytea;`,
	},
	// 18: the report of the check a deploy ran against recorded traffic
	// (pic deploy --check), as JSON read with the release; '' for none.
	{
		sqlite:   `ALTER TABLE releases ADD COLUMN check_report TEXT NOT NULL DEFAULT '';`,
		postgres: `ALTER TABLE releases ADD COLUMN check_report text NOT NULL DEFAULT '';`,
	},
	// 19: the gradual rollouts of releases (canaries): the share of
	// traffic, the window, the state and the outcome counts of each side,
	// which every orchestrator node adds to once a second.
	{
		sqlite: `
CREATE TABLE canaries (
	app_id           INTEGER NOT NULL,
	release_id       INTEGER NOT NULL,
	base_release     INTEGER NOT NULL,
	percent          INTEGER NOT NULL,
	window_seconds   INTEGER NOT NULL,
	min_requests     INTEGER NOT NULL,
	state            TEXT    NOT NULL,
	reason           TEXT    NOT NULL DEFAULT '',
	started_at       INTEGER NOT NULL,
	ends_at          INTEGER NOT NULL,
	decided_at       INTEGER,
	base_total       INTEGER NOT NULL DEFAULT 0,
	base_errors      INTEGER NOT NULL DEFAULT 0,
	canary_total     INTEGER NOT NULL DEFAULT 0,
	canary_errors    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (app_id, release_id),
	FOREIGN KEY (app_id, release_id) REFERENCES releases (app_id, id) ON DELETE CASCADE
);
CREATE INDEX canaries_state ON canaries (state);
`,
		postgres: `
CREATE TABLE canaries (
	app_id           bigint      NOT NULL,
	release_id       bigint      NOT NULL,
	base_release     bigint      NOT NULL,
	percent          integer     NOT NULL,
	window_seconds   bigint      NOT NULL,
	min_requests     bigint      NOT NULL,
	state            text        NOT NULL,
	reason           text        NOT NULL DEFAULT '',
	started_at       timestamptz NOT NULL,
	ends_at          timestamptz NOT NULL,
	decided_at       timestamptz,
	base_total       bigint      NOT NULL DEFAULT 0,
	base_errors      bigint      NOT NULL DEFAULT 0,
	canary_total     bigint      NOT NULL DEFAULT 0,
	canary_errors    bigint      NOT NULL DEFAULT 0,
	PRIMARY KEY (app_id, release_id),
	FOREIGN KEY (app_id, release_id) REFERENCES releases (app_id, id) ON DELETE CASCADE
);
CREATE INDEX canaries_state ON canaries (state);
`,
	},
	// 20: the roll-ups of the invocation log per app, script and
	// minute or hour (store.StatsRow), written with the records.
	{
		sqlite: `
CREATE TABLE script_stats (
	app_id        INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	script        TEXT    NOT NULL,
	step          INTEGER NOT NULL, -- seconds: 60 or 3600
	at            INTEGER NOT NULL, -- the step's start, Unix seconds
	requests      INTEGER NOT NULL DEFAULT 0,
	ok            INTEGER NOT NULL DEFAULT 0,
	client_errors INTEGER NOT NULL DEFAULT 0,
	server_errors INTEGER NOT NULL DEFAULT 0,
	timeouts      INTEGER NOT NULL DEFAULT 0,
	limits        INTEGER NOT NULL DEFAULT 0,
	-- the histograms: store.DurationBounds and store.OperationBounds
	d0 INTEGER NOT NULL DEFAULT 0,
	d1 INTEGER NOT NULL DEFAULT 0,
	d2 INTEGER NOT NULL DEFAULT 0,
	d3 INTEGER NOT NULL DEFAULT 0,
	d4 INTEGER NOT NULL DEFAULT 0,
	d5 INTEGER NOT NULL DEFAULT 0,
	d6 INTEGER NOT NULL DEFAULT 0,
	d7 INTEGER NOT NULL DEFAULT 0,
	d8 INTEGER NOT NULL DEFAULT 0,
	d9 INTEGER NOT NULL DEFAULT 0,
	d10 INTEGER NOT NULL DEFAULT 0,
	d11 INTEGER NOT NULL DEFAULT 0,
	d12 INTEGER NOT NULL DEFAULT 0,
	d13 INTEGER NOT NULL DEFAULT 0,
	d14 INTEGER NOT NULL DEFAULT 0,
	o0 INTEGER NOT NULL DEFAULT 0,
	o1 INTEGER NOT NULL DEFAULT 0,
	o2 INTEGER NOT NULL DEFAULT 0,
	o3 INTEGER NOT NULL DEFAULT 0,
	o4 INTEGER NOT NULL DEFAULT 0,
	o5 INTEGER NOT NULL DEFAULT 0,
	o6 INTEGER NOT NULL DEFAULT 0,
	o7 INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (app_id, step, at, script)
);
CREATE INDEX script_stats_step_at ON script_stats (step, at);
`,
		postgres: `
CREATE TABLE script_stats (
	app_id        bigint  NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	script        text    NOT NULL,
	step          integer NOT NULL, -- seconds: 60 or 3600
	at            bigint  NOT NULL, -- the step's start, Unix seconds
	requests      bigint  NOT NULL DEFAULT 0,
	ok            bigint  NOT NULL DEFAULT 0,
	client_errors bigint  NOT NULL DEFAULT 0,
	server_errors bigint  NOT NULL DEFAULT 0,
	timeouts      bigint  NOT NULL DEFAULT 0,
	limits        bigint  NOT NULL DEFAULT 0,
	-- the histograms: store.DurationBounds and store.OperationBounds
	d0 bigint  NOT NULL DEFAULT 0,
	d1 bigint  NOT NULL DEFAULT 0,
	d2 bigint  NOT NULL DEFAULT 0,
	d3 bigint  NOT NULL DEFAULT 0,
	d4 bigint  NOT NULL DEFAULT 0,
	d5 bigint  NOT NULL DEFAULT 0,
	d6 bigint  NOT NULL DEFAULT 0,
	d7 bigint  NOT NULL DEFAULT 0,
	d8 bigint  NOT NULL DEFAULT 0,
	d9 bigint  NOT NULL DEFAULT 0,
	d10 bigint  NOT NULL DEFAULT 0,
	d11 bigint  NOT NULL DEFAULT 0,
	d12 bigint  NOT NULL DEFAULT 0,
	d13 bigint  NOT NULL DEFAULT 0,
	d14 bigint  NOT NULL DEFAULT 0,
	o0 bigint  NOT NULL DEFAULT 0,
	o1 bigint  NOT NULL DEFAULT 0,
	o2 bigint  NOT NULL DEFAULT 0,
	o3 bigint  NOT NULL DEFAULT 0,
	o4 bigint  NOT NULL DEFAULT 0,
	o5 bigint  NOT NULL DEFAULT 0,
	o6 bigint  NOT NULL DEFAULT 0,
	o7 bigint  NOT NULL DEFAULT 0,
	PRIMARY KEY (app_id, step, at, script)
);
CREATE INDEX script_stats_step_at ON script_stats (step, at);
`,
	},
	// 21: the audit log of the control plane (store.AuditEntry). Nothing
	// updates or deletes a row but retention; the actor is kept by id and
	// by name, and the app by slug, so that an entry outlives both.
	{
		sqlite: `
CREATE TABLE audit (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	at          INTEGER NOT NULL,
	actor_id    INTEGER NOT NULL DEFAULT 0,
	actor       TEXT    NOT NULL DEFAULT '',
	address     TEXT    NOT NULL DEFAULT '',
	action      TEXT    NOT NULL,
	object_kind TEXT    NOT NULL DEFAULT '',
	object_name TEXT    NOT NULL DEFAULT '',
	app         TEXT,
	outcome     TEXT    NOT NULL,
	reason      TEXT    NOT NULL DEFAULT '',
	details     TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_app ON audit (app, at);
`,
		postgres: `
CREATE TABLE audit (
	id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at          timestamptz NOT NULL,
	actor_id    bigint      NOT NULL DEFAULT 0,
	actor       text        COLLATE "C" NOT NULL DEFAULT '',
	address     text        NOT NULL DEFAULT '',
	action      text        NOT NULL,
	object_kind text        NOT NULL DEFAULT '',
	object_name text        NOT NULL DEFAULT '',
	app         text        COLLATE "C",
	outcome     text        NOT NULL,
	reason      text        NOT NULL DEFAULT '',
	details     text        NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_app ON audit (app, at);
`,
	},
}

// Migrations returns the number of migrations this program knows: the
// schema version of a database it created or upgraded.
func Migrations() int { return len(migrations) }

// legacyPostgresVersions maps the versions PostgreSQL databases recorded
// in schema_migrations, before the histories were merged, to the merged
// numbers.
var legacyPostgresVersions = []int{0, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15}

// migrationLock is the key of the PostgreSQL advisory lock that
// serialises migrations across processes: "picloud" in ASCII.
const migrationLock = 0x7069636c6f7564

// migrate applies the migrations db lacks up to version (-1: all), each in
// its own transaction. The transaction holds the database (SQLite's
// BEGIN IMMEDIATE, PostgreSQL's advisory lock), so processes opening the
// database at once apply each migration once, one after the other.
func migrate(ctx context.Context, d *dialect, db *sql.DB, version int) (from int, err error) {
	if from, err = versionBefore(ctx, d, db); err != nil {
		return 0, err
	}
	return from, migrateList(ctx, d, db, migrations, version)
}

// versionBefore returns the schema version of db before migrate, for the
// log: 0 for a new database. It reads without the migration lock, so a
// process migrating at the same time may move it on.
func versionBefore(ctx context.Context, d *dialect, db *sql.DB) (int, error) {
	if d.postgres {
		history, err := pgTableExists(ctx, db, "schema_history")
		if err != nil {
			return 0, err
		}
		if history {
			return schemaVersion(ctx, d, db)
		}
		v, _, err := legacyVersion(ctx, db)
		return v, err
	}
	return schemaVersion(ctx, d, db)
}

// migrateList is migrate with the history list.
func migrateList(ctx context.Context, d *dialect, db *sql.DB, list []migration, version int) error {
	if version < 0 || version > len(list) {
		version = len(list)
	}
	for {
		done, err := migrateOne(ctx, d, db, list, version)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending migration up to target and reports
// whether none was pending.
func migrateOne(ctx context.Context, d *dialect, db *sql.DB, list []migration, target int) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("%s: unable to begin a migration: %w", d.name, err)
	}
	defer tx.Rollback()
	version, err := beginMigration(ctx, d, tx)
	if err != nil {
		return false, err
	}
	switch {
	case version > len(list):
		return false, fmt.Errorf("%s: the database's schema version is %d, newer than the %d this program knows: "+
			"it was upgraded by a newer PiCloud; run that version, or restore a backup made before the upgrade",
			d.name, version, len(list))
	case version >= target:
		// Commit rather than roll back: PostgreSQL's first open creates
		// schema_history in this transaction.
		if err := tx.Commit(); err != nil {
			return false, fmt.Errorf("%s: unable to read the schema version: %w", d.name, err)
		}
		return true, nil
	}
	// Without arguments, both drivers run the several statements of a
	// migration (PostgreSQL's simple protocol).
	if text := list[version].text(d); text != "" {
		if _, err := tx.ExecContext(ctx, text); err != nil {
			return false, fmt.Errorf("%s: unable to apply migration %d: %w", d.name, version+1, err)
		}
	}
	if err := setSchemaVersion(ctx, d, tx, version+1); err != nil {
		return false, fmt.Errorf("%s: unable to record schema version %d: %w", d.name, version+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("%s: unable to commit migration %d: %w", d.name, version+1, err)
	}
	return false, nil
}

// beginMigration holds the database for a migration in tx and returns its
// schema version. In PostgreSQL it creates schema_history on the first
// open, and moves the version of a database migrated before the histories
// were merged to the merged numbers.
func beginMigration(ctx context.Context, d *dialect, tx *sql.Tx) (int, error) {
	if !d.postgres {
		return schemaVersion(ctx, d, tx)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return 0, fmt.Errorf("postgres: unable to take the migration lock: %w", err)
	}
	exists, err := pgTableExists(ctx, tx, "schema_history")
	if err != nil {
		return 0, err
	}
	if exists {
		return schemaVersion(ctx, d, tx)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE schema_history (
		version    integer     PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return 0, fmt.Errorf("postgres: unable to create the schema_history table: %w", err)
	}
	v, legacy, err := legacyVersion(ctx, tx)
	if err != nil || !legacy {
		return 0, err // an error, or a new database
	}
	for i := 1; i <= v; i++ {
		if err := setSchemaVersion(ctx, d, tx, i); err != nil {
			return 0, fmt.Errorf("postgres: unable to record schema version %d: %w", i, err)
		}
	}
	return v, nil
}

// legacyVersion returns the schema version a PostgreSQL database recorded
// in schema_migrations before the histories were merged, in the merged
// numbers, and whether it has that table at all.
func legacyVersion(ctx context.Context, c conn) (v int, found bool, err error) {
	if found, err = pgTableExists(ctx, c, "schema_migrations"); err != nil || !found {
		return 0, found, err
	}
	var legacy int
	if err := c.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&legacy); err != nil {
		return 0, true, fmt.Errorf("postgres: unable to read the schema version: %w", err)
	}
	if legacy >= len(legacyPostgresVersions) {
		return 0, true, fmt.Errorf("postgres: the database's schema version is %d (in schema_migrations), newer than the %d this program knows there: "+
			"it was upgraded by a newer PiCloud; run that version, or restore a backup made before the upgrade", legacy, len(legacyPostgresVersions)-1)
	}
	return legacyPostgresVersions[legacy], true, nil
}

// pgTableExists reports whether the current schema has the table name.
// It reads pg_tables, under the statement's snapshot, rather than asking
// to_regclass: a lookup that missed leaves a negative entry in the
// backend's catalog cache, which taking an advisory lock does not
// refresh, so a connection that looked before another process created the
// table would go on missing it.
func pgTableExists(ctx context.Context, c conn, name string) (bool, error) {
	var exists bool
	err := c.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1)`, name).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("postgres: unable to read the schema version: %w", err)
	}
	return exists, nil
}

// schemaVersion returns the number of migrations applied to the database.
func schemaVersion(ctx context.Context, d *dialect, c conn) (int, error) {
	var v int
	err := c.QueryRowContext(ctx, d.pick(`PRAGMA user_version`, `SELECT coalesce(max(version), 0) FROM schema_history`)).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("%s: unable to read the schema version: %w", d.name, err)
	}
	return v, nil
}

func setSchemaVersion(ctx context.Context, d *dialect, tx *sql.Tx, v int) error {
	if d.postgres {
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_history (version, applied_at) VALUES ($1, $2)`, v, time.Now())
		return err
	}
	// PRAGMA takes no bound parameters; v is an int.
	_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v))
	return err
}

// Migrated returns the schema version the database had when the store
// opened it and the one it has now: equal when no migration ran.
func (s *Store) Migrated() (from, to int) { return s.root.migratedFrom, s.root.migratedTo }

// SchemaVersion returns the number of migrations applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, s.d, s.read)
}

// MigrateSQLite creates or opens the SQLite database at path and applies
// the migrations it lacks up to version, no further: for tests that build
// a database as an earlier PiCloud left it.
func MigrateSQLite(path string, version int) error {
	s, err := openSQLite(path, version)
	if err != nil {
		return err
	}
	return s.Close()
}

// MigratePostgres is MigrateSQLite for the PostgreSQL database at dsn.
func MigratePostgres(ctx context.Context, dsn string, version int) error {
	s, err := openPostgres(ctx, dsn, version)
	if err != nil {
		return err
	}
	return s.Close()
}
