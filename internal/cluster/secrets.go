package cluster

import (
	"log/slog"

	"github.com/picloud/picloud/internal/secrets"
)

// SecretKey declares the settings of the key that seals apps' secrets:
// --secret-key-file (PICLOUD_SECRET_KEY_FILE) and PICLOUD_SECRET_KEY,
// which is no flag, as a command line is visible to other users. Every
// manager and orchestrator of a cluster needs the same key.
func (f *Flags) SecretKey(key, file *string) {
	f.String(file, "secret-key-file", "PICLOUD_SECRET_KEY_FILE", "",
		"file of the key that encrypts apps' secrets, mode 0600; the same key on every manager and orchestrator", false)
	f.String(key, "", secrets.EnvKey, "", "the key that encrypts apps' secrets, 32 bytes as base64 or hex; wins over the key file", false)
}

// OpenSecretKey opens the key that SecretKey declared; a cluster binary
// never generates one, as every process must share it. With neither
// setting it returns nil and warns: the process runs without secrets
// (a manager refuses to set them, an orchestrator fails the scripts of
// apps that have some).
func OpenSecretKey(key, file string, log *slog.Logger) (*secrets.Keyring, error) {
	if key == "" && file == "" {
		log.Warn("no secret key: apps' secrets are unavailable; set " + secrets.EnvKey + " or --secret-key-file")
		return nil, nil
	}
	keys, src, err := secrets.Load(key, file, false)
	if err != nil {
		return nil, &UsageError{err}
	}
	log.Info("opened the key that encrypts apps' secrets", "source", src.String(), "key_id", keys.ID())
	return keys, nil
}
