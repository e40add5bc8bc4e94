package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations is the schema's history, oldest first. It is append-only: a
// released migration is never edited or removed, and a change of schema is
// a new entry. The schema version, the highest version recorded in
// schema_migrations, is the number of migrations applied.
//
// Text that is compared or sorted (names, slugs, IDs) uses the "C"
// collation: byte order, as SQLite's, whatever the database's locale, and
// the indexes serve the ORDER BY clauses.
var migrations = []string{
	// 1: the schema of the first PostgreSQL release, the same as SQLite's
	// fifth version. A job's run_at is when it next needs attention: its
	// next attempt while it waits, the end of its lease while it runs,
	// NULL once it ended; so one index finds both what to run and what a
	// dead node left behind. Logs and jobs keep the script by name, so
	// that they outlive it.
	`
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
	// 2: an app's outbound HTTP policy, store.AppOutbound as JSON.
	`
ALTER TABLE apps ADD COLUMN outbound jsonb NOT NULL DEFAULT '{}';
`,
	// 3: apps' secrets, sealed by package secrets (never the plain value).
	`
CREATE TABLE app_secrets (
	app_id     bigint      NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	name       text        COLLATE "C" NOT NULL,
	sealed     bytea       NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (app_id, name)
);
`,
	// 4: versions.rolled_back_from, the version a rollback copied.
	`ALTER TABLE versions ADD COLUMN rolled_back_from integer;`,
	// 5: the HTTP exchange of an invocation (request and response, as
	// compact JSON; see store.EncodeRequest), for the logs and replay.
	// NULL for records without one: schedules, and older records. bytea,
	// not jsonb: nothing queries inside it, and jsonb refuses \u0000.
	`
ALTER TABLE invocations ADD COLUMN request bytea, ADD COLUMN response bytea;
`,
	// 6: the key-value store of each app (SQLite's tenth version).
	// kv_usage keeps each app's totals, changed in the transaction of
	// every write, which first locks the app's row of it: writes to one
	// app's keys are serialised, and a quota check reads one row instead
	// of summing the app's keys. Values are JSON kept as text: jsonb would
	// reorder their keys and refuse \u0000.
	`
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
	// 7: fair claims of jobs (SQLite's twelfth version; see ClaimJob).
	// jobs_app_due finds an app's due jobs and counts its running ones
	// without a scan of the queue; job_turns keeps when each app last had
	// a job claimed, so that claims go round the apps with due jobs.
	`
CREATE INDEX jobs_app_due ON jobs (app_id, run_at, id) WHERE state IN ('queued', 'error', 'running');
CREATE TABLE job_turns (
	app_id     bigint      PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	claimed_at timestamptz NOT NULL
);
`,
	// 8: the bytes of the HTTP exchanges recorded with each app's
	// invocation records, kept up to date by the writes, so that the
	// recording quota reads one row instead of summing the app's records
	// (quotas.go).
	`
CREATE TABLE recording_usage (
	app_id bigint PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	bytes  bigint NOT NULL -- bytes of request and response of the app's invocations
);
INSERT INTO recording_usage (app_id, bytes)
	SELECT app_id, sum(coalesce(octet_length(request), 0) + coalesce(octet_length(response), 0)) FROM invocations GROUP BY app_id;
`,
	// 9: each app's pending jobs and the bytes of their stored requests,
	// kept by triggers whatever statement moves a job in or out of the
	// pending states, so that an enqueue checks the app's queue bounds by
	// reading one row instead of walking its pending jobs (SQLite's 14th
	// version).
	`
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
	// 10: a private script is not on the data plane (see
	// store.Script.Private); the scripts deployed before stay public.
	`ALTER TABLE scripts ADD COLUMN private boolean NOT NULL DEFAULT false;`,
}

// migrationLock is the key of the advisory lock that serialises
// migrations across processes: "picloud" in ASCII.
const migrationLock = 0x7069636c6f7564

// migrate applies the migrations of list that the database lacks, each in
// its own transaction that also records its version, so a failure leaves
// the database at the last version that applied completely. Every
// transaction first takes the migration lock, so processes opening the
// database at once apply each migration once, one after the other.
func migrate(ctx context.Context, pool *pgxpool.Pool, list []string) error {
	for {
		done, err := migrateOne(ctx, pool, list)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending migration of list and reports
// whether none was pending.
func migrateOne(ctx context.Context, pool *pgxpool.Pool, list []string) (done bool, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: unable to begin a migration: %w", err)
	}
	defer tx.Rollback(ctx)

	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return false, fmt.Errorf("postgres: unable to take the migration lock: %w", err)
	}
	_, err = tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`)
	if err != nil {
		return false, fmt.Errorf("postgres: unable to create the schema_migrations table: %w", err)
	}
	version, err := schemaVersion(ctx, tx)
	if err != nil {
		return false, err
	}
	switch {
	case version > len(list):
		return false, fmt.Errorf("postgres: the database schema version %d is newer than this program's %d", version, len(list))
	case version == len(list):
		// Commit rather than roll back: the first Open creates
		// schema_migrations in this transaction.
		if err := tx.Commit(ctx); err != nil {
			return false, fmt.Errorf("postgres: unable to read the schema version: %w", err)
		}
		return true, nil
	}
	// Without arguments, Exec uses the simple protocol, which runs the
	// several statements of a migration.
	if _, err := tx.Exec(ctx, list[version]); err != nil {
		return false, fmt.Errorf("postgres: unable to apply migration %d: %w", version+1, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version+1); err != nil {
		return false, fmt.Errorf("postgres: unable to record schema version %d: %w", version+1, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("postgres: unable to commit migration %d: %w", version+1, err)
	}
	return false, nil
}

// SchemaVersion returns the number of migrations applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, s.pool)
}

func schemaVersion(ctx context.Context, db querier) (int, error) {
	var v int
	if err := db.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: unable to read the schema version: %w", err)
	}
	return v, nil
}
