package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/auth"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

func requireAdmin(c *caller) error {
	if !c.admin() {
		return httpx.Forbidden("only administrators may manage users")
	}
	return nil
}

func (m *Manager) listUsers(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	users, err := m.store.ListUsers(r.Context())
	if err != nil {
		return fmt.Errorf("manager: unable to list users: %w", err)
	}
	out := make([]api.User, 0, len(users))
	for _, u := range users {
		out = append(out, toUser(u))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (m *Manager) createUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	var req api.CreateUserRequest
	if err := httpx.DecodeJSON(r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = store.RoleMember
	}
	if err := validUsername(req.Username); err != nil {
		return err
	}
	if err := validGlobalRole(req.Role); err != nil {
		return err
	}
	var generated string
	if req.Password == "" {
		p, err := auth.GeneratePassword()
		if err != nil {
			return err
		}
		req.Password, generated = p, p
	} else if err := validPassword(req.Password); err != nil {
		return err
	}
	hash, err := m.hashPassword(r.Context(), req.Password)
	if err != nil {
		return err
	}
	u := store.User{Username: req.Username, PasswordHash: hash, Role: req.Role}
	if err := m.store.CreateUser(r.Context(), &u); err != nil {
		return storeErr(err, "", fmt.Sprintf("user %q already exists", req.Username))
	}
	httpx.WriteJSON(w, http.StatusCreated, api.NewUser{User: toUser(u), Password: generated})
	return nil
}

// targetUser loads the user named in the path for c, who must be an admin
// or that user. Non-admins asking for someone else get 403 whether or not
// the user exists.
func (m *Manager) targetUser(r *http.Request, c *caller) (store.User, error) {
	name := r.PathValue("username")
	if !c.admin() && name != c.user.Username {
		return store.User{}, httpx.Forbidden("only administrators may manage other users")
	}
	u, err := m.store.GetUserByName(r.Context(), name)
	if err != nil {
		return u, storeErr(err, fmt.Sprintf("user %q not found", name), "")
	}
	return u, nil
}

func (m *Manager) showUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	u, err := m.targetUser(r, c)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toUser(u))
	return nil
}

func (m *Manager) deleteUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	u, err := m.targetUser(r, c)
	if err != nil {
		return err
	}
	// The last-administrator check and the deletion are one transaction,
	// in which CountAdmins holds the administrators' rows: two
	// administrators deleting each other at once cannot both succeed.
	// The user's sessions, API keys and memberships go with it.
	err = m.store.RunInTx(r.Context(), func(tx store.Store) error {
		if u.Role == store.RoleAdmin {
			n, err := tx.CountAdmins(r.Context())
			if err != nil {
				return fmt.Errorf("manager: unable to count admins: %w", err)
			}
			if n <= 1 {
				return httpx.Conflict("user %q is the last administrator and cannot be deleted", u.Username)
			}
		}
		return storeErr(tx.DeleteUser(r.Context(), u.ID), fmt.Sprintf("user %q not found", u.Username), "")
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (m *Manager) setPassword(w http.ResponseWriter, r *http.Request, c *caller) error {
	u, err := m.targetUser(r, c)
	if err != nil {
		return err
	}
	var req api.SetPasswordRequest
	if err := httpx.DecodeJSON(r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if err := validPassword(req.Password); err != nil {
		return err
	}
	if u.ID == c.user.ID {
		if req.CurrentPassword == "" {
			return httpx.Invalid("current_password is required to change your own password")
		}
		if err := m.checkCurrentPassword(w, r, u, req.CurrentPassword); err != nil {
			return err
		}
	}
	hash, err := m.hashPassword(r.Context(), req.Password)
	if err != nil {
		return err
	}
	u.PasswordHash = hash
	// Whoever knew the old password may be signed in: the user's other
	// sessions end, in the transaction that changes it. Users changing
	// their own password keep the session they did it with; an
	// administrator's reset ends them all.
	keep := ""
	if u.ID == c.user.ID && c.via == viaSession {
		keep = c.tokenHash
	}
	err = m.store.RunInTx(r.Context(), func(tx store.Store) error {
		if err := tx.UpdateUser(r.Context(), u); err != nil {
			return storeErr(err, fmt.Sprintf("user %q not found", u.Username), "")
		}
		if err := tx.DeleteUserSessions(r.Context(), u.ID, keep); err != nil {
			return fmt.Errorf("manager: unable to end the other sessions of %q: %w", u.Username, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// checkCurrentPassword verifies a user's password under the same throttle
// as logins.
func (m *Manager) checkCurrentPassword(w http.ResponseWriter, r *http.Request, u store.User, password string) error {
	at, err := m.reserveAttempt(w, r, u.Username)
	if err != nil {
		return err
	}
	defer at.abandon()
	release, err := m.acquireHashSlot(r.Context())
	if err != nil {
		return err
	}
	defer release()
	ok, err := auth.VerifyPassword(u.PasswordHash, password)
	if err != nil {
		return fmt.Errorf("manager: the password hash of %q is unreadable: %w", u.Username, err)
	}
	if !ok {
		at.failed()
		return httpx.Forbidden("the current password is wrong")
	}
	at.succeeded()
	return nil
}

// EnsureAdmin creates the first administrator when there is none. An
// empty password is replaced by a generated one, which is returned so that
// the caller can print it once. When a user of that name already exists
// (as a member), it is made an administrator with the password. created is
// false, and nothing changes, when an administrator exists.
func (m *Manager) EnsureAdmin(ctx context.Context, username, password string) (created bool, pw string, err error) {
	n, err := m.store.CountAdmins(ctx)
	if err != nil {
		return false, "", fmt.Errorf("manager: unable to count admins: %w", err)
	}
	if n > 0 {
		return false, "", nil
	}
	if password == "" {
		if password, err = auth.GeneratePassword(); err != nil {
			return false, "", err
		}
	}
	if err := m.createOrReset(ctx, username, password, store.RoleAdmin); err != nil {
		return false, "", err
	}
	return true, password, nil
}

// CreateOrResetUser creates a user, or sets the password and role of an
// existing one; it serves the offline "picloud admin" command. It refuses
// to demote the last administrator.
func CreateOrResetUser(ctx context.Context, st store.Store, username, password, role string) error {
	m := &Manager{store: st, hashParams: auth.DefaultParams, hashSlots: make(chan struct{}, 1)}
	return m.createOrReset(ctx, username, password, role)
}

func (m *Manager) createOrReset(ctx context.Context, username, password, role string) error {
	for _, err := range []error{validUsername(username), validPassword(password), validGlobalRole(role)} {
		var e *httpx.Error
		if errors.As(err, &e) {
			return fmt.Errorf("manager: %s", e.Message)
		}
	}
	hash, err := m.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	// One transaction: the user is created or changed, and its sessions
	// end, together; the last-administrator check holds the
	// administrators' rows (CountAdmins).
	return m.store.RunInTx(ctx, func(tx store.Store) error {
		u, err := tx.GetUserByName(ctx, username)
		switch {
		case errors.Is(err, store.ErrNotFound):
			u = store.User{Username: username, PasswordHash: hash, Role: role}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return fmt.Errorf("manager: unable to create user %q: %w", username, err)
			}
			return nil
		case err != nil:
			return fmt.Errorf("manager: unable to read user %q: %w", username, err)
		}
		if u.Role == store.RoleAdmin && role != store.RoleAdmin {
			n, err := tx.CountAdmins(ctx)
			if err != nil {
				return fmt.Errorf("manager: unable to count admins: %w", err)
			}
			if n <= 1 {
				return fmt.Errorf("manager: %q is the last administrator and cannot become a %s", username, role)
			}
		}
		u.PasswordHash, u.Role = hash, role
		if err := tx.UpdateUser(ctx, u); err != nil {
			return fmt.Errorf("manager: unable to update user %q: %w", username, err)
		}
		if err := tx.DeleteUserSessions(ctx, u.ID, ""); err != nil {
			return fmt.Errorf("manager: the password of %q changed but its sessions did not end: %w", username, err)
		}
		return nil
	})
}
