package main

import (
	"fmt"
	"log/slog"

	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/secrets"
)

// openSecretKey opens the key that seals apps' secrets: PICLOUD_SECRET_KEY,
// else the key file, generated on first start. A key file that others may
// read, or that holds no key, stops the server with how to fix it.
func openSecretKey(cfg config.Config, log *slog.Logger) (*secrets.Keyring, error) {
	keys, src, err := secrets.Load(cfg.SecretKey, cfg.SecretKeyPath(), true)
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
