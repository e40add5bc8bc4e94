package manager

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
)

// Bounds of an app's secrets.
const (
	// MaxSecretBytes bounds a secret's value; a larger one is 413.
	MaxSecretBytes = 64 << 10
	// MaxSecrets bounds the secrets of one app; one more is 409.
	MaxSecrets = 100
	// maxSecretJSONBytes bounds a PUT body: the value with room for its
	// escaping (\u0000 is six bytes for one).
	maxSecretJSONBytes = 6*MaxSecretBytes + 1024
)

// A secret's name is an environment variable's: upper-case letters,
// digits and '_', not starting with a digit, 1–64 characters.
var secretNamePattern = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,63}$`)

func validSecretName(s string) error {
	if !secretNamePattern.MatchString(s) {
		return httpx.Invalid("invalid secret name %q: use 1-64 upper-case letters, digits and '_', not starting with a digit (like API_TOKEN)", s)
	}
	return nil
}

func toSecret(s store.Secret) api.Secret {
	return api.Secret{Name: s.Name, CreatedAt: utc(s.CreatedAt), UpdatedAt: utc(s.UpdatedAt)}
}

// listSecrets lists an app's secrets by name, without values: viewers
// may see which exist.
func (m *Manager) listSecrets(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canRead)
	if err != nil {
		return err
	}
	list, err := m.store.ListSecrets(r.Context(), app.ID)
	if err != nil {
		return fmt.Errorf("manager: unable to list the secrets of app %q: %w", app.Slug, err)
	}
	out := make([]api.Secret, 0, len(list))
	for _, s := range list {
		out = append(out, toSecret(s))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// putSecret sets a secret from {"value": "…"}: 201 when new, 200 when
// replaced. The value is sealed before it is stored and never answered.
func (m *Manager) putSecret(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canEdit)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := validSecretName(name); err != nil {
		return err
	}
	if m.secrets == nil {
		return &httpx.Error{Status: http.StatusServiceUnavailable, Code: "secrets_unavailable",
			Message: fmt.Sprintf("this server has no secret key, so it cannot store secrets: set %s or --secret-key-file", secrets.EnvKey)}
	}
	var req struct {
		Value *string `json:"value"`
	}
	if err := httpx.DecodeJSON(r, &req, maxSecretJSONBytes); err != nil {
		return err
	}
	switch {
	case req.Value == nil:
		return httpx.Invalid(`value is required: {"value": "…"}`)
	case *req.Value == "":
		return httpx.Invalid("value must not be empty; to remove a secret, delete it")
	case len(*req.Value) > MaxSecretBytes:
		return httpx.TooLarge("the value has %d bytes; a secret holds at most %d", len(*req.Value), MaxSecretBytes)
	}
	sealed, err := m.secrets.Seal(app.ID, name, []byte(*req.Value))
	if err != nil {
		return fmt.Errorf("manager: unable to seal secret %s of app %q: %w", name, app.Slug, err)
	}
	sec := store.Secret{AppID: app.ID, Name: name, Sealed: sealed, UpdatedAt: m.now()}
	// The data plane drops the app's cached scripts, so that the next
	// run sees the new value.
	var created bool
	err = m.change(r.Context(), events.AppChanged, app.Slug, func(tx store.Store) (err error) {
		created, err = tx.PutSecret(r.Context(), &sec, MaxSecrets)
		if errors.Is(err, store.ErrTooMany) {
			return httpx.Conflict("app %q already has %d secrets, the most an app may have; delete one first", app.Slug, MaxSecrets)
		}
		return storeErr(err, fmt.Sprintf("app %q not found", app.Slug), "")
	})
	if err != nil {
		return err
	}
	m.log.InfoContext(r.Context(), "manager: secret set", "app", app.Slug, "secret", name, "created", created, "user", c.user.Username)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, toSecret(sec))
	return nil
}

// deleteSecret removes a secret: 204, or 404 when the app has none of
// that name (a name that could not exist included, as for every name in
// a path that is only looked up).
func (m *Manager) deleteSecret(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canEdit)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	err = m.change(r.Context(), events.AppChanged, app.Slug, func(tx store.Store) error {
		return storeErr(tx.DeleteSecret(r.Context(), app.ID, name), fmt.Sprintf("secret %s not found in app %q", name, app.Slug), "")
	})
	if err != nil {
		return err
	}
	m.log.InfoContext(r.Context(), "manager: secret deleted", "app", app.Slug, "secret", name, "user", c.user.Username)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
