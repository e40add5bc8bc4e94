package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

func testSecrets(t *testing.T, st store.Store) {
	ctx := t.Context()
	shop := newApp(t, st, "shop")
	blog := newApp(t, st, "blog")

	list, err := st.ListSecrets(ctx, shop.ID)
	ok(t, "ListSecrets of an app without secrets", err)
	if list == nil || len(list) != 0 {
		t.Fatalf("ListSecrets = %#v, want empty", list)
	}

	// A create stamps both times when none is given.
	before := time.Now()
	tok := store.Secret{AppID: shop.ID, Name: "TOKEN", Sealed: []byte{1, 2, 3, 0, 255}}
	created, err := st.PutSecret(ctx, &tok, 0)
	ok(t, "PutSecret", err)
	if !created {
		t.Error("PutSecret of a new name: created = false")
	}
	checkStamped(t, "UpdatedAt", tok.UpdatedAt, before, time.Now())
	check(t, "CreatedAt of a create", tok.CreatedAt, tok.UpdatedAt)

	// Given times are kept.
	api := store.Secret{AppID: shop.ID, Name: "API_KEY", Sealed: []byte("sealed-api"), CreatedAt: at(0), UpdatedAt: at(time.Second)}
	created, err = st.PutSecret(ctx, &api, 0)
	ok(t, "PutSecret", err)
	check(t, "created", created, true)
	check(t, "times given", []time.Time{api.CreatedAt, api.UpdatedAt}, []time.Time{at(0), at(time.Second)})
	other := store.Secret{AppID: blog.ID, Name: "TOKEN", Sealed: []byte("blog's"), CreatedAt: at(0), UpdatedAt: at(0)}
	_, err = st.PutSecret(ctx, &other, 0)
	ok(t, "PutSecret in another app", err)

	// Lists go by name and leave the values out; ListSecretValues has them.
	noValue := func(s store.Secret) store.Secret { s.Sealed = nil; return s }
	list, err = st.ListSecrets(ctx, shop.ID)
	ok(t, "ListSecrets", err)
	check(t, "ListSecrets", list, []store.Secret{noValue(api), noValue(tok)})
	values, err := st.ListSecretValues(ctx, shop.ID)
	ok(t, "ListSecretValues", err)
	check(t, "ListSecretValues", values, []store.Secret{api, tok})

	// A replace keeps CreatedAt and returns it.
	upd := store.Secret{AppID: shop.ID, Name: "API_KEY", Sealed: []byte("new-sealed"), CreatedAt: at(time.Hour), UpdatedAt: at(time.Minute)}
	created, err = st.PutSecret(ctx, &upd, 0)
	ok(t, "PutSecret replace", err)
	check(t, "created on a replace", created, false)
	check(t, "CreatedAt after a replace", upd.CreatedAt, at(0))
	values, err = st.ListSecretValues(ctx, shop.ID)
	ok(t, "ListSecretValues", err)
	check(t, "ListSecretValues after a replace", values, []store.Secret{
		{AppID: shop.ID, Name: "API_KEY", Sealed: []byte("new-sealed"), CreatedAt: at(0), UpdatedAt: at(time.Minute)}, tok})

	// Names are case-sensitive.
	lower := store.Secret{AppID: shop.ID, Name: "token", Sealed: []byte("x")}
	created, err = st.PutSecret(ctx, &lower, 0)
	ok(t, "PutSecret lower-case", err)
	check(t, "created lower-case", created, true)

	_, err = st.PutSecret(ctx, &store.Secret{AppID: 1 << 40, Name: "X", Sealed: []byte("x")}, 0)
	wantErr(t, "PutSecret in an unknown app", err, store.ErrNotFound)

	ok(t, "DeleteSecret", st.DeleteSecret(ctx, shop.ID, "token"))
	wantErr(t, "DeleteSecret again", st.DeleteSecret(ctx, shop.ID, "token"), store.ErrNotFound)
	wantErr(t, "DeleteSecret of another app's", st.DeleteSecret(ctx, shop.ID, "NOPE"), store.ErrNotFound)
	wantErr(t, "DeleteSecret in an unknown app", st.DeleteSecret(ctx, 1<<40, "TOKEN"), store.ErrNotFound)
	list, err = st.ListSecrets(ctx, blog.ID)
	ok(t, "ListSecrets", err)
	check(t, "the other app's secrets", list, []store.Secret{noValue(other)})

	// Deleting an app deletes its secrets; a new app of the same slug
	// starts with none.
	ok(t, "DeleteApp", st.DeleteApp(ctx, shop.ID))
	values, err = st.ListSecretValues(ctx, shop.ID)
	ok(t, "ListSecretValues of a deleted app", err)
	if len(values) != 0 {
		t.Errorf("the secrets of a deleted app remain: %+v", values)
	}
	again := newApp(t, st, "shop")
	list, err = st.ListSecrets(ctx, again.ID)
	ok(t, "ListSecrets", err)
	if len(list) != 0 {
		t.Errorf("a new app of a deleted slug has secrets: %+v", list)
	}
	list, err = st.ListSecrets(ctx, blog.ID)
	ok(t, "ListSecrets", err)
	check(t, "the other app's secrets after the delete", list, []store.Secret{noValue(other)})
}

// The bound on an app's secrets holds under concurrent creates, counts
// only that app's, and never refuses a replace.
func testSecretBound(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")
	const bound, tries = 4, 10
	var (
		wg              sync.WaitGroup
		mu              sync.Mutex
		added, refusals int
	)
	for i := range tries {
		wg.Go(func() {
			s := store.Secret{AppID: a.ID, Name: fmt.Sprintf("S%d", i), Sealed: []byte("x")}
			_, err := st.PutSecret(ctx, &s, bound)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				added++
			case errors.Is(err, store.ErrTooMany):
				refusals++
			default:
				t.Errorf("PutSecret: %v", err)
			}
		})
	}
	wg.Wait()
	if added != bound || refusals != tries-bound {
		t.Fatalf("%d created and %d refused, want %d and %d", added, refusals, bound, tries-bound)
	}
	list, err := st.ListSecrets(ctx, a.ID)
	ok(t, "ListSecrets", err)
	if len(list) != bound {
		t.Fatalf("%d secrets stored, want %d", len(list), bound)
	}
	// A full app still takes new values for its secrets.
	s := store.Secret{AppID: a.ID, Name: list[0].Name, Sealed: []byte("y")}
	created, err := st.PutSecret(ctx, &s, bound)
	ok(t, "PutSecret replace in a full app", err)
	check(t, "created", created, false)
	// Another app has its own bound.
	s = store.Secret{AppID: b.ID, Name: "S0", Sealed: []byte("x")}
	_, err = st.PutSecret(ctx, &s, bound)
	ok(t, "PutSecret in another app", err)
	// A delete frees a place.
	ok(t, "DeleteSecret", st.DeleteSecret(ctx, a.ID, list[0].Name))
	s = store.Secret{AppID: a.ID, Name: "LATE", Sealed: []byte("x")}
	_, err = st.PutSecret(ctx, &s, bound)
	ok(t, "PutSecret after a delete", err)
}
