package orchestrator

import (
	"context"
	"errors"
	"fmt"

	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
)

// openSecrets reads and opens the secrets of app for a run's env. A store
// failure is returned as err, and the load is not cached; a secret that
// does not open is envErr, cached with the script like a compile error:
// its app's scripts fail, with the reason in their log, until the secret
// is set again (which drops the cached scripts), while other apps run on.
// Running a script without one of its secrets could take a wrong turn
// (an empty token that matches), so the app fails closed.
func (o *Orchestrator) openSecrets(ctx context.Context, app store.App) (env map[string]string, envErr, err error) {
	list, err := o.store.ListSecretValues(ctx, app.ID)
	if err != nil || len(list) == 0 {
		return nil, nil, err
	}
	if o.secrets == nil {
		return nil, fmt.Errorf("app %s has secrets, but this server has no secret key to open them: set %s or --secret-key-file as on the manager",
			app.Slug, secrets.EnvKey), nil
	}
	env = make(map[string]string, len(list))
	for _, s := range list {
		v, err := o.secrets.Open(app.ID, s.Name, s.Sealed)
		if err != nil {
			return nil, fmt.Errorf("secret %s of app %s cannot be opened: %w; %s", s.Name, app.Slug, err, openHint(err)), nil
		}
		env[s.Name] = string(v)
	}
	return env, nil, nil
}

func openHint(err error) string {
	if errors.Is(err, secrets.ErrWrongKey) {
		return "the server's key changed: restore the key it was sealed with, or set the secret again"
	}
	return "the stored value was changed or damaged: set the secret again"
}
