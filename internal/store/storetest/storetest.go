// Package storetest is the conformance suite of store.Store: every
// implementation (SQLite, PostgreSQL) runs it from its own tests, so they
// all behave alike. It knows no driver.
package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// Run runs the suite. open must return a new, empty store each time it is
// called; Run closes every store it opens.
//
// Beyond the comments of store.Store, the suite holds implementations to
// these rules:
//   - Lists are never nil. Users are listed by username, apps by slug,
//     members by username, API keys and versions oldest first, scripts by
//     name (ListScriptsForUser by app slug, then name), invocations newest
//     first by StartedAt, then ID.
//   - Create methods set CreatedAt when it is zero and keep it otherwise;
//     reads return exactly the CreatedAt a create method set.
//     Times come back in UTC; times given by the caller come back equal
//     when they have at most microsecond precision.
//   - A write that refers to a user or app that does not exist (a session,
//     an API key, a member, a deploy) fails with store.ErrNotFound; update
//     and delete methods that match no record fail with store.ErrNotFound.
//   - GetSession does not return an expired session (ExpiresAt not after
//     now); DeleteExpiredSessions(at) removes the sessions expired at at.
//   - Deleting a user keeps the versions it deployed, with CreatedBy 0;
//     DeployScript accepts userID 0 for "no user".
//   - A deleted script's ID is never given to a new script.
//   - InsertInvocations skips a record whose ID is already stored or
//     whose app no longer exists, without failing the batch.
//     ListInvocations with AppID 0 lists every app's records.
//   - Schedules are listed by ID, due schedules earliest first; deleting a
//     script or an app deletes its schedules. Firing is not an edit: it
//     leaves UpdatedAt alone.
//   - Jobs are listed newest first (CreatedAt, then ID); claims take the
//     job with the earliest RunAt, then the smallest ID. Deleting an app
//     deletes its jobs. The queue bound holds under concurrent enqueues.
//   - Secrets are listed by name; deleting an app deletes its secrets.
//   - Keys of the key-value store are listed in byte order; deleting an
//     app deletes its keys and usage. Increments of one key from many
//     goroutines lose none.
//   - An app's queue usage (pending jobs and their requests' bytes)
//     follows every move of its jobs; the bound on queued bytes holds
//     under concurrent enqueues. Its recorded bytes follow every write and
//     prune of its records, and a trim deletes its oldest records first.
//   - Releases are numbered per app from 1 and listed newest first, also
//     when created concurrently; deleting an app deletes its releases,
//     deleting a user keeps them, with CreatedBy 0.
//   - The audit log is listed newest first (At, then ID); an entry's
//     empty Details is stored as "{}".
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, st store.Store)
	}{
		{"Users", testUsers},
		{"DeleteUser", testDeleteUser},
		{"Sessions", testSessions},
		{"APIKeys", testAPIKeys},
		{"Apps", testApps},
		{"Members", testMembers},
		{"Scripts", testScripts},
		{"ScriptVisibility", testScriptVisibility},
		{"ListScriptsForUser", testListScriptsForUser},
		{"DeleteApp", testDeleteApp},
		{"Invocations", testInvocations},
		{"PruneInvocations", testPruneInvocations},
		{"Stats", testStats},
		{"ConcurrentDeploys", testConcurrentDeploys},
		{"Schedules", testSchedules},
		{"FireSchedule", testFireSchedule},
		{"FireScheduleRace", testFireScheduleRace},
		{"Jobs", testJobs},
		{"JobLeases", testJobLeases},
		{"QueueBound", testQueueBound},
		{"JobFairness", testJobFairness},
		{"JobCap", testJobCap},
		{"JobCapConcurrent", testJobCapConcurrent},
		{"JobCapSchedules", testJobCapSchedules},
		{"JobRequestDropped", testJobRequestDropped},
		{"AppOutbound", testAppOutbound},
		{"Secrets", testSecrets},
		{"SecretBound", testSecretBound},
		{"RollbackScript", testRollbackScript},
		{"ConcurrentRollbacks", testConcurrentRollbacks},
		{"InvocationExchange", testInvocationExchange},
		{"InvocationsAfter", testInvocationsAfter},
		{"KV", testKV},
		{"KVList", testKVList},
		{"KVQuota", testKVQuota},
		{"KVIncr", testKVIncr},
		{"KVConcurrentIncr", testKVConcurrentIncr},
		{"KVPurge", testKVPurge},
		{"QueueBytes", testQueueBytes},
		{"QueueBytesRace", testQueueBytesRace},
		{"QueueUsageFollowsJobs", testQueueUsageFollowsJobs},
		{"TrimRecordings", testTrimRecordings},
		{"Releases", testReleases},
		{"ConcurrentReleases", testConcurrentReleases},
		{"Canaries", testCanaries},
		{"Audit", testAudit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.run(t, st)
		})
	}
	t.Run("Close", func(t *testing.T) {
		st := open(t)
		if err := st.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if _, err := st.ListUsers(t.Context()); err == nil {
			t.Error("ListUsers after Close: no error")
		}
	})
}

// tolerance bounds the difference between a time the store stamps and the
// clock read around the call.
const tolerance = 50 * time.Millisecond

// at returns a fixed time with microsecond precision, the finest every
// implementation keeps, plus d.
func at(d time.Duration) time.Time {
	return time.Date(2025, time.March, 14, 15, 9, 26, 535897000, time.UTC).Add(d)
}

// stamp is a time the caller sets, rounded to what every implementation
// keeps.
func stamp() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// checkStamped fails unless got was taken between before and after, in UTC.
func checkStamped(t *testing.T, what string, got, before, after time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s = %v: location %v, want UTC", what, got, got.Location())
	}
	if got.Before(before.Add(-tolerance)) || got.After(after.Add(tolerance)) {
		t.Errorf("%s = %v, want between %v and %v", what, got, before, after)
	}
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// ok fails the test now if err is not nil.
func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// check fails unless got equals want, comparing times with Equal and
// requiring them in UTC.
func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if msg := diff(reflect.ValueOf(got), reflect.ValueOf(want), "", reflect.TypeFor[time.Time]()); msg != "" {
		t.Errorf("%s: %s\n got: %+v\nwant: %+v", what, msg, got, want)
	}
}

func diff(got, want reflect.Value, path string, timeType reflect.Type) string {
	if got.Type() != want.Type() {
		return fmt.Sprintf("%s: type %v, want %v", path, got.Type(), want.Type())
	}
	if got.Type() == timeType {
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) {
			return fmt.Sprintf("%s = %v, want %v", path, g, w)
		}
		if !g.IsZero() && g.Location() != time.UTC {
			return fmt.Sprintf("%s = %v: not in UTC", path, g)
		}
		return ""
	}
	switch got.Kind() {
	case reflect.Struct:
		for i := range got.NumField() {
			if msg := diff(got.Field(i), want.Field(i), path+"."+got.Type().Field(i).Name, timeType); msg != "" {
				return msg
			}
		}
		return ""
	case reflect.Slice:
		if got.Len() != want.Len() {
			return fmt.Sprintf("%s: length %d, want %d", path, got.Len(), want.Len())
		}
		for i := range got.Len() {
			if msg := diff(got.Index(i), want.Index(i), fmt.Sprintf("%s[%d]", path, i), timeType); msg != "" {
				return msg
			}
		}
		return ""
	}
	if !reflect.DeepEqual(got.Interface(), want.Interface()) {
		return fmt.Sprintf("%s = %v, want %v", path, got.Interface(), want.Interface())
	}
	return ""
}

// Fixtures.

func newUser(t *testing.T, st store.Store, name, role string) store.User {
	t.Helper()
	u := store.User{Username: name, PasswordHash: "hash-of-" + name, Role: role}
	ok(t, "CreateUser "+name, st.CreateUser(t.Context(), &u))
	return u
}

func newApp(t *testing.T, st store.Store, slug string) store.App {
	t.Helper()
	a := store.App{Slug: slug, Name: "App " + slug}
	ok(t, "CreateApp "+slug, st.CreateApp(t.Context(), &a))
	return a
}

func deploy(t *testing.T, st store.Store, app store.App, name, source string, by int64) (store.Script, store.Version) {
	t.Helper()
	sc, v, err := st.DeployScript(t.Context(), app.ID, name, source, by)
	ok(t, "DeployScript "+app.Slug+"/"+name, err)
	return sc, v
}
