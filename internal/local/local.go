// Package local runs a PiCloud project on the developer's machine: pic
// run, pic dev and pic test. It assembles an all-in-one node with package
// node, on a SQLite file, exactly as the server does, and drives it
// through the node's own API and data plane: the scripts run on the same
// engine, script API and limits as in production, and their invocation
// records (operations, print output) are the ones the server would log.
//
// The node's API is never served on the network: a Runtime reaches it in
// the process, as a local administrator created at start.
package local

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/manager"
	"github.com/picloud/picloud/internal/node"
	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
)

// adminName is the local administrator every Runtime deploys as.
const adminName = "local"

// logFlush is how soon a run's invocation record is written: a local node
// reports each run as it ends.
const logFlush = 2 * time.Millisecond

// recordWait bounds the wait for a run's invocation record.
const recordWait = 10 * time.Second

// Options configure a Runtime.
type Options struct {
	// SQLite is the database file, created if needed.
	SQLite string
	// SecretsKey is the 32-byte key app secrets are sealed with; nil: a
	// random one (secrets then last as long as the Runtime).
	SecretsKey []byte
	// Transport, when set, carries every outbound HTTP request of the
	// scripts (pic test's stubs); nil: the server's guarded dialing.
	Transport http.RoundTripper
	// Logger receives the node's logs; nil: discarded.
	Logger *slog.Logger
	// OnRecord, when set, is called with the invocation record of every
	// run, as soon as it is written (pic dev's log lines).
	OnRecord func(store.Invocation)
}

// Runtime is a running local node and a session of its administrator.
type Runtime struct {
	node *node.Node
	api  *client.Client
	last applied // what Apply made live

	onRecord func(store.Invocation)
	mu       sync.Mutex
	// calls counts the Invoke calls under way: records are kept for them
	// only, as a record may be written before its call knows its id.
	calls   int
	records map[string]store.Invocation      // written, not yet claimed by a waiter
	waiters map[string]chan store.Invocation // by invocation id
}

// Start assembles a node over opts.SQLite, starts it and signs in as the
// local administrator (created on the first start).
func Start(ctx context.Context, opts Options) (*Runtime, error) {
	key := opts.SecretsKey
	if key == nil {
		key = make([]byte, secrets.KeySize)
		rand.Read(key)
	}
	keys, err := secrets.NewKeyring(key)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	n, err := node.New(ctx, node.Config{
		SQLite:            opts.SQLite,
		Logger:            opts.Logger,
		Secrets:           keys,
		LogFlush:          logFlush,
		OutboundTransport: opts.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	r := &Runtime{node: n, onRecord: opts.OnRecord,
		records: map[string]store.Invocation{}, waiters: map[string]chan store.Invocation{}}
	n.Bus.Subscribe(r.logged)
	if err := r.start(ctx); err != nil {
		n.Close(context.Background())
		return nil, err
	}
	return r, nil
}

// start starts the node and opens a session of the local administrator,
// created on the first start; its password is new at every start, as
// nobody types it.
func (r *Runtime) start(ctx context.Context) error {
	if err := r.node.Start(ctx); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	pw := make([]byte, 16)
	rand.Read(pw)
	password := hex.EncodeToString(pw)
	if err := manager.CreateOrResetUser(ctx, r.node.Store, adminName, password, store.RoleAdmin); err != nil {
		return fmt.Errorf("local: the local administrator: %w", err)
	}
	cl := client.New("http://local", "")
	cl.HTTP = &http.Client{Transport: inProcess{r.node.Handler()}}
	sess, err := cl.Login(ctx, adminName, password)
	if err != nil {
		return fmt.Errorf("local: sign in as the local administrator: %w", err)
	}
	cl.Token = sess.Token
	r.api = cl
	return nil
}

// Handler is the node's data plane and health check: /fn/ and /healthz.
// The API and the dashboard are left out, as the local administrator
// needs no login.
func (r *Runtime) Handler() http.Handler {
	h := r.node.Handler()
	mux := http.NewServeMux()
	mux.Handle("/fn/", h)
	mux.Handle("GET /healthz", h)
	return mux
}

// Close stops the node, writing the last invocation records.
func (r *Runtime) Close(ctx context.Context) error {
	return r.node.Close(ctx)
}

// logged hands the records of an InvocationsLogged event to their
// waiters and to OnRecord.
func (r *Runtime) logged(e events.Event) {
	if e.Kind != events.InvocationsLogged {
		return
	}
	_, ids := events.ParseInvocationsLogged(e.Key)
	for _, id := range ids {
		inv, err := r.node.Store.GetInvocation(context.Background(), id)
		if err != nil {
			continue
		}
		if r.onRecord != nil {
			r.onRecord(inv)
		}
		r.mu.Lock()
		if ch, ok := r.waiters[id]; ok {
			delete(r.waiters, id)
			ch <- inv
		} else if r.calls > 0 {
			r.records[id] = inv
		}
		r.mu.Unlock()
	}
}

// calling notes an Invoke call under way until the returned function
// is called.
func (r *Runtime) calling() (done func()) {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		if r.calls--; r.calls == 0 {
			clear(r.records)
		}
		r.mu.Unlock()
	}
}

// record waits for the invocation record of id.
func (r *Runtime) record(ctx context.Context, id string) (store.Invocation, error) {
	r.mu.Lock()
	if inv, ok := r.records[id]; ok {
		delete(r.records, id)
		r.mu.Unlock()
		return inv, nil
	}
	ch := make(chan store.Invocation, 1)
	r.waiters[id] = ch
	r.mu.Unlock()
	t := time.NewTimer(recordWait)
	defer t.Stop()
	select {
	case inv := <-ch:
		return inv, nil
	case <-t.C:
	case <-ctx.Done():
	}
	r.mu.Lock()
	delete(r.waiters, id)
	r.mu.Unlock()
	return store.Invocation{}, fmt.Errorf("local: the record of invocation %s was not written", id)
}

// inProcess is an http.RoundTripper that serves requests with a handler
// in the process: the local API is never on the network.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		// The handler may read the body after RoundTrip's caller gave up.
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
