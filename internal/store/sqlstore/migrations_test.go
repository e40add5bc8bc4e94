package sqlstore

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateChecksums = flag.Bool("update-migrations", false,
	"record the checksums of new migrations in testdata/migrations.sum (never of changed ones)")

// checksum is the SHA-256 of a migration's texts.
func (m migration) checksum() string {
	h := sha256.New()
	fmt.Fprintf(h, "sqlite\x00%s\x00postgres\x00%s", m.sqlite, m.postgres)
	return hex.EncodeToString(h.Sum(nil))
}

// TestMigrationsNeverChange fails when a landed migration is edited or
// removed: databases in the field have applied it as it was, and will
// never apply it again. testdata/migrations.sum holds the checksum of
// every landed migration; a new one is added to it with
// `go test ./internal/store/sqlstore -run TestMigrationsNeverChange -update-migrations`.
func TestMigrationsNeverChange(t *testing.T) {
	const path = "testdata/migrations.sum"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var landed []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n, sum, ok := strings.Cut(sc.Text(), " ")
		if !ok || n != fmt.Sprint(len(landed)+1) {
			t.Fatalf("%s: line %d is not %q", path, len(landed)+1, fmt.Sprint(len(landed)+1)+" CHECKSUM")
		}
		landed = append(landed, sum)
	}
	f.Close()
	if len(migrations) < len(landed) {
		t.Fatalf("%d migrations, but %d landed: a landed migration was removed", len(migrations), len(landed))
	}
	for i, sum := range landed {
		if got := migrations[i].checksum(); got != sum {
			t.Errorf("migration %d was edited after it landed (checksum %s, landed %s): "+
				"restore it and make the change a new migration", i+1, got, sum)
		}
	}
	if len(migrations) == len(landed) {
		return
	}
	if !*updateChecksums {
		t.Fatalf("migrations %d to %d have no recorded checksum: record them with -update-migrations", len(landed)+1, len(migrations))
	}
	out, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	for i := len(landed); i < len(migrations); i++ {
		fmt.Fprintf(out, "%d %s\n", i+1, migrations[i].checksum())
	}
}

// TestMigrationsBothBackends: each migration is written for both
// backends, or documents why one needs nothing.
func TestMigrationsBothBackends(t *testing.T) {
	for i, m := range migrations {
		if m.sqlite == "" && i+1 > 15 || m.postgres == "" && i+1 > 15 {
			t.Errorf("migration %d lacks the text of a backend", i+1)
		}
	}
}
