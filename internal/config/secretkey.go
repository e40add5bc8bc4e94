package config

import (
	"fmt"
	"log/slog"

	"github.com/picloud/picloud/internal/secrets"
)

// OpenClusterKey opens the key of a cluster binary: it never generates
// one, as every process must share it. With neither setting it returns
// nil and warns: the process runs without secrets (a manager refuses to
// set them, an orchestrator fails the scripts of apps that have some). A
// key that cannot be read is a *UsageError that never repeats the key.
func (k SecretKey) OpenClusterKey(log *slog.Logger) (*secrets.Keyring, error) {
	if k.Key == "" && k.KeyFile == "" {
		log.Warn("no secret key: apps' secrets are unavailable; set " + secrets.EnvKey + " or --secret-key-file")
		return nil, nil
	}
	keys, src, err := secrets.Load(k.Key, k.KeyFile, false)
	if err != nil {
		return nil, &UsageError{err}
	}
	log.Info("opened the key that encrypts apps' secrets", "source", src.String(), "key_id", keys.ID())
	return keys, nil
}

// OpenSecretKey opens the all-in-one server's key: PICLOUD_SECRET_KEY,
// else the key file, generated on first start. A key file that others may
// read, or that holds no key, stops the server with how to fix it.
func (c Config) OpenSecretKey(log *slog.Logger) (*secrets.Keyring, error) {
	keys, src, err := secrets.Load(c.SecretKey.Key, c.SecretKeyPath(), true)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if src.Created {
		log.Warn("generated the key that encrypts apps' secrets; back it up with the database: without it they cannot be read",
			"file", src.File, "key_id", keys.ID())
	} else {
		log.Info("opened the key that encrypts apps' secrets", "source", src.String(), "key_id", keys.ID())
	}
	return keys, nil
}
