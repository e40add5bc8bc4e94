package client

// The project deploy and release methods against the real control plane,
// over SQLite: the JSON shapes of both sides round-trip.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/picloud/picloud/internal/manager"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestReleases(t *testing.T) {
	ctx := context.Background()
	st := dbtest.Open(t, dbtest.SQLite)
	if err := manager.CreateOrResetUser(ctx, st, "ada", "password-ada", store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	m := manager.New(manager.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	c := New(srv.URL, "")
	sess, err := c.Login(ctx, "ada", "password-ada")
	if err != nil {
		t.Fatal(err)
	}
	c.Token = sess.Token

	project := ProjectDeploy{Message: "first", Scripts: []ProjectScript{{Name: "hello", Source: `"one"`}},
		Schedules: []NewSchedule{{Script: "hello", Cron: "@daily"}}}
	out, err := c.DeployProject(ctx, "shop", project)
	if err != nil || out.Release == nil || out.Release.ID != 1 || len(out.Changes) != 3 {
		t.Fatalf("first deploy: %+v %v", out, err)
	}
	// An empty list of schedules is sent as one, and deletes with prune.
	project.Scripts[0].Source, project.Schedules, project.Prune = `"two"`, []NewSchedule{}, true
	if out, err = c.DeployProject(ctx, "shop", project); err != nil || out.Release == nil || len(out.Release.Changes) != 2 {
		t.Fatalf("second deploy: %+v %v", out, err)
	}
	list, err := c.ListReleases(ctx, "shop")
	if err != nil || len(list) != 2 || list[0].ID != 2 || *list[0].CreatedBy != "ada" {
		t.Fatalf("ListReleases: %+v %v", list, err)
	}
	rel, err := c.GetRelease(ctx, "shop", 1)
	if err != nil || rel.Message != "first" || rel.Scripts[0] != (ReleaseScript{Name: "hello", Version: 1}) {
		t.Fatalf("GetRelease: %+v %v", rel, err)
	}
	back, err := c.RollbackRelease(ctx, "shop", 1, "back to one")
	if err != nil || back.ID != 3 || back.RolledBackFrom != 1 || back.Message != "back to one" {
		t.Fatalf("RollbackRelease: %+v %v", back, err)
	}
	_, err = c.RollbackRelease(ctx, "shop", 1, "")
	var e *Error
	if !errors.As(err, &e) || e.Status != 409 || e.Code != "nothing_to_change" {
		t.Fatalf("RollbackRelease again: %v, want 409 nothing_to_change", err)
	}
	if _, err := c.GetRelease(ctx, "shop", 9); StatusOf(err) != 404 {
		t.Fatalf("GetRelease of an unknown release: %v", err)
	}
}
