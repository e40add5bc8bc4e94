package sqlstore

import (
	"context"
	"database/sql"
	"errors"
)

// writerStatements are the log writer's statements, prepared at Open.
// TODO(issue 16): filled in with the invocation log's writer.
type writerStatements struct {
	all []*sql.Stmt
}

func prepareWriterStatements(ctx context.Context, d *dialect, db *sql.DB) (writerStatements, error) {
	return writerStatements{}, nil
}

// close closes the statements that were prepared.
func (w *writerStatements) close() error {
	var errs []error
	for _, stmt := range w.all {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}
