package manager

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/auth"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// API keys are the caller's own: everyone, administrators included, lists,
// creates and revokes only their keys. A user's keys go with the user.

func (m *Manager) listAPIKeys(w http.ResponseWriter, r *http.Request, c *caller) error {
	keys, err := m.store.ListAPIKeys(r.Context(), c.user.ID)
	if err != nil {
		return fmt.Errorf("manager: unable to list API keys: %w", err)
	}
	out := make([]api.APIKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, toAPIKey(k))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// freshSignIn is how recent a sign-in must be to create an API key without
// giving the password again: a key outlives every session, so a stolen
// session or key must not be able to mint one.
const freshSignIn = 10 * time.Minute

// errPasswordRequired asks for the password again; its code lets the CLI
// and the dashboard prompt for it.
var errPasswordRequired = &httpx.Error{Status: http.StatusForbidden, Code: "password_required",
	Message: "creating an API key needs a sign-in less than 10 minutes old or your password: send it as \"password\""}

// checkFreshSignIn lets c create an API key: with the password when given
// (throttled as a login), else with a session younger than freshSignIn.
func (m *Manager) checkFreshSignIn(w http.ResponseWriter, r *http.Request, c *caller, password string) error {
	if password != "" {
		return m.checkCurrentPassword(w, r, c.user, password)
	}
	if c.via == viaSession && m.now().Sub(c.signedIn) < freshSignIn {
		return nil
	}
	return errPasswordRequired
}

func (m *Manager) createAPIKey(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req api.CreateAPIKeyRequest
	if err := httpx.DecodeJSON(r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if strings.TrimSpace(req.Name) == "" {
		return httpx.Invalid("name is required")
	}
	if err := validText("name", req.Name, maxAPIKeyNameLen); err != nil {
		return err
	}
	if err := m.checkFreshSignIn(w, r, c, req.Password); err != nil {
		return err
	}
	token, err := auth.NewAPIKeyToken()
	if err != nil {
		return err
	}
	k := store.APIKey{UserID: c.user.ID, Name: req.Name, TokenHash: auth.HashToken(token), Prefix: auth.DisplayPrefix(token)}
	if err := m.store.CreateAPIKey(r.Context(), &k); err != nil {
		return storeErr(err, "", fmt.Sprintf("you already have an API key named %q", req.Name))
	}
	httpx.WriteJSON(w, http.StatusCreated, api.NewAPIKey{APIKey: toAPIKey(k), RawToken: token})
	return nil
}

func (m *Manager) deleteAPIKey(w http.ResponseWriter, r *http.Request, c *caller) error {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return httpx.NotFound("API key %q not found", raw)
	}
	if err := m.store.DeleteAPIKey(r.Context(), c.user.ID, id); err != nil {
		return storeErr(err, fmt.Sprintf("API key %d not found among your keys", id), "")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
