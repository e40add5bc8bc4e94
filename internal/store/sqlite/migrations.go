package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations is the schema's history, oldest first. It is append-only: a
// released migration is never edited or removed, and a change of schema is
// a new entry. The schema version, kept in PRAGMA user_version, is the
// number of migrations applied.
//
// Each migration runs in its own transaction, with foreign keys enforced;
// one that must rebuild a table has to keep the rows it copies consistent.
var migrations = []string{
	// 1: users and their credentials.
	`
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
	// 2: apps and their members.
	`
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
	// 3: scripts and their immutable versions.
	`
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
	// 4: invocation logs. The script is kept by name so that the log of a
	// deleted script stays readable until it is pruned.
	`
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
	// 5: schedules and the job queue. A job's run_at is when it next needs
	// attention: its next attempt while it waits, the end of its lease
	// while it runs, so that one index finds both what to run and what a
	// dead node left behind. Jobs keep the script by name, as logs do.
	`
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
	// 6: an app's outbound HTTP policy, store.AppOutbound as JSON.
	`
ALTER TABLE apps ADD COLUMN outbound TEXT NOT NULL DEFAULT '{}';
`,
	// 7: apps' secrets, sealed by package secrets (never the plain value).
	`
CREATE TABLE app_secrets (
	app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	name       TEXT    NOT NULL,
	sealed     BLOB    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (app_id, name)
);
`,
	// 8: versions.rolled_back_from, the version a rollback copied.
	`ALTER TABLE versions ADD COLUMN rolled_back_from INTEGER;`,
	// 9: the HTTP exchange of an invocation (request and response, as
	// compact JSON; see store.EncodeRequest), for the logs and replay.
	// NULL for records without one: schedules, and older records.
	`
ALTER TABLE invocations ADD COLUMN request BLOB;
ALTER TABLE invocations ADD COLUMN response BLOB;
`,
	// 10: the key-value store of each app. kv_usage keeps each app's
	// totals, changed in the transaction of every write, so that a quota
	// check reads one row instead of summing the app's keys. Keys compare
	// byte by byte (BINARY), the order of code points.
	`
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
	// 11: one b-tree fewer per logged invocation. Every query of the
	// data plane and the API names the app, and pruning walks the apps'
	// index (see PruneInvocations); keeping a global index by start time
	// cost a quarter of the log writer's time (BenchmarkInsertInvocations).
	`DROP INDEX invocations_started;`,
	// 12: fair claims of jobs (see ClaimJob). jobs_app_due finds an
	// app's due jobs and counts its running ones without a scan of the
	// queue; job_turns keeps when each app last had a job claimed, so
	// that claims go round the apps with due jobs.
	`
CREATE INDEX jobs_app_due ON jobs (app_id, run_at, id) WHERE state IN ('queued', 'error', 'running');
CREATE TABLE job_turns (
	app_id     INTEGER PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	claimed_at INTEGER NOT NULL
);
`,
	// 13: the bytes of the HTTP exchanges recorded with each app's
	// invocation records, kept up to date by the writes, so that the
	// recording quota reads one row instead of summing the app's records
	// (quotas.go).
	`
CREATE TABLE recording_usage (
	app_id INTEGER PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	bytes  INTEGER NOT NULL -- bytes of request and response of the app's invocations
);
INSERT INTO recording_usage (app_id, bytes)
	SELECT app_id, sum(coalesce(length(request), 0) + coalesce(length(response), 0)) FROM invocations GROUP BY app_id;
`,
	// 14: each app's pending jobs and the bytes of their stored requests,
	// kept by triggers whatever statement moves a job in or out of the
	// pending states, so that an enqueue checks the app's queue bounds by
	// reading one row instead of walking its pending jobs
	// (BenchmarkPendingUsage).
	`
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
	// 15: a private script is not on the data plane (see
	// store.Script.Private); the scripts deployed before stay public.
	`ALTER TABLE scripts ADD COLUMN private INTEGER NOT NULL DEFAULT 0;`,
}

// migrate applies the migrations of list that db lacks, each in its own
// transaction that also records the new schema version, so a failure
// leaves the database at the last version that applied completely. The
// transaction begins IMMEDIATE, so two processes opening the same file
// apply each migration once.
func migrate(ctx context.Context, db *sql.DB, list []string) error {
	for {
		done, err := migrateOne(ctx, db, list)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending migration of list and reports
// whether none was pending.
func migrateOne(ctx context.Context, db *sql.DB, list []string) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: unable to begin a migration: %w", err)
	}
	defer tx.Rollback()

	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return false, fmt.Errorf("sqlite: unable to read the schema version: %w", err)
	}
	switch {
	case version > len(list):
		return false, fmt.Errorf("sqlite: the database schema version %d is newer than this program's %d", version, len(list))
	case version == len(list):
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, list[version]); err != nil {
		return false, fmt.Errorf("sqlite: unable to apply migration %d: %w", version+1, err)
	}
	// PRAGMA takes no bound parameters; version is an int.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version+1)); err != nil {
		return false, fmt.Errorf("sqlite: unable to record schema version %d: %w", version+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: unable to commit migration %d: %w", version+1, err)
	}
	return false, nil
}

// SchemaVersion returns the number of migrations applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.read.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: unable to read the schema version: %w", err)
	}
	return v, nil
}
