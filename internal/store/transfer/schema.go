package transfer

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// tableOrder is every table of PiCloud's schema, in the order of the
// copy: a table comes after those its foreign keys refer to (a test
// checks this against the schema). queue_usage comes last: PostgreSQL's
// triggers write it when apps and jobs are inserted (see copyTable).
//
// A table the source has and this list lacks stops the copy (ErrSchema):
// a new table must be added here, in its place, or it would be left
// behind without a word.
var tableOrder = []string{
	"users",
	"sessions",
	"api_keys",
	"apps",
	"members",
	"scripts",
	"versions",
	"releases",
	"canaries",
	"schedules",
	"jobs",
	"kv",
	"kv_usage",
	"app_secrets",
	"invocations",
	"script_stats",
	"job_turns",
	"recording_usage",
	"audit",
	"queue_usage",
}

// bookkeeping are the tables of the schema's own history, which each
// database keeps for itself and the copy leaves alone: sqlstore.OpenPostgres
// records the target's version (schema_history; schema_migrations in
// databases made before the two backends' histories were merged).
var bookkeeping = []string{"schema_history", "schema_migrations"}

// table is a table to copy, described by the target's schema.
type table struct {
	name    string
	columns []column // in the target's order
	pk      []int    // indexes in columns of the primary key, in its order
	// seq is how far the source's AUTOINCREMENT went (sqlite_sequence),
	// at least its highest id: the target's identity must not give a
	// deleted row's id to a new one.
	seq int64
}

// column is a column of the target, from information_schema.columns.
type column struct {
	name     string
	dataType string // information_schema's data_type: "bigint", "timestamp with time zone" …
	nullable bool
	identity bool // GENERATED … AS IDENTITY
}

// plan compares the source's tables and columns with the target's schema
// and returns the tables to copy, in tableOrder. The target's schema is
// this program's, just migrated; the source's may be older or newer, and
// the copy goes ahead only when both have the same tables and columns.
func plan(ctx context.Context, src *source, tx pgx.Tx) ([]*table, error) {
	srcTables, err := src.tables(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(srcTables, func(n string) bool { return slices.Contains(tableOrder, n) }) {
		return nil, fmt.Errorf("%w: %s holds none of PiCloud's tables (it has %s)", ErrNotPiCloud, src.path, listOrNone(srcTables))
	}
	var unknown, missing []string
	for _, n := range srcTables {
		if !slices.Contains(tableOrder, n) {
			unknown = append(unknown, n)
		}
	}
	for _, n := range tableOrder {
		if !slices.Contains(srcTables, n) {
			missing = append(missing, n)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: the source has tables this version of picloud does not know (%s): it was written by a newer picloud; migrate with that version",
			ErrSchema, strings.Join(unknown, ", "))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: the source lacks tables (%s): its schema is older than this picloud's; start this version's picloud on it once, stop it, and migrate again",
			ErrSchema, strings.Join(missing, ", "))
	}

	seqs, err := src.sequences(ctx)
	if err != nil {
		return nil, err
	}
	tables := make([]*table, 0, len(tableOrder))
	for _, n := range tableOrder {
		t, err := targetTable(ctx, tx, n)
		if err != nil {
			return nil, err
		}
		srcCols, err := src.columns(ctx, n)
		if err != nil {
			return nil, err
		}
		if err := sameColumns(t, srcCols); err != nil {
			return nil, err
		}
		t.seq = seqs[n]
		tables = append(tables, t)
	}
	return tables, nil
}

// sameColumns checks that the source's table has the target's columns.
func sameColumns(t *table, srcCols []string) error {
	var extra, lacking []string
	for _, c := range srcCols {
		if !slices.ContainsFunc(t.columns, func(tc column) bool { return tc.name == c }) {
			extra = append(extra, c)
		}
	}
	for _, c := range t.columns {
		if !slices.Contains(srcCols, c.name) {
			lacking = append(lacking, c.name)
		}
	}
	if len(extra) > 0 {
		return fmt.Errorf("%w: the source's table %s has columns this version of picloud does not know (%s): it was written by a newer picloud; migrate with that version",
			ErrSchema, t.name, strings.Join(extra, ", "))
	}
	if len(lacking) > 0 {
		return fmt.Errorf("%w: the source's table %s lacks columns (%s): its schema is older than this picloud's; start this version's picloud on it once, stop it, and migrate again",
			ErrSchema, t.name, strings.Join(lacking, ", "))
	}
	return nil
}

// targetTable reads the columns and primary key of table name of the
// target, in the schema its connection works in (the first of its
// search_path, where postgres.Open created the tables).
func targetTable(ctx context.Context, tx pgx.Tx, name string) (*table, error) {
	rows, err := tx.Query(ctx,
		`SELECT column_name, data_type, is_nullable = 'YES', is_identity = 'YES'
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1
		ORDER BY ordinal_position`, name)
	if err != nil {
		return nil, fmt.Errorf("transfer: unable to read the target's columns of %s: %w", name, err)
	}
	t := &table{name: name}
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.dataType, &c.nullable, &c.identity); err != nil {
			rows.Close()
			return nil, fmt.Errorf("transfer: unable to read the target's columns of %s: %w", name, err)
		}
		if !knownType(c.dataType) {
			rows.Close()
			return nil, fmt.Errorf("%w: the target's column %s.%s has type %s, which the copy does not know how to fill",
				ErrSchema, name, c.name, c.dataType)
		}
		t.columns = append(t.columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("transfer: unable to read the target's columns of %s: %w", name, err)
	}
	if len(t.columns) == 0 {
		// postgres.Open made the schema: this copier knows a table that
		// this program's schema lacks.
		return nil, fmt.Errorf("%w: the target has no table %s", ErrSchema, name)
	}
	pk, err := primaryKey(ctx, tx, name)
	if err != nil {
		return nil, err
	}
	for _, k := range pk {
		i := slices.IndexFunc(t.columns, func(c column) bool { return c.name == k })
		if i < 0 {
			return nil, fmt.Errorf("transfer: the primary key of %s names an unknown column %s", name, k)
		}
		t.pk = append(t.pk, i)
	}
	if len(t.pk) == 0 {
		// The checksums read both sides in the order of the key.
		return nil, fmt.Errorf("%w: the target's table %s has no primary key, which the copy needs to compare it", ErrSchema, name)
	}
	return t, nil
}

// primaryKey returns the columns of the primary key of table name, in
// the key's order.
func primaryKey(ctx context.Context, tx pgx.Tx, name string) ([]string, error) {
	rows, err := tx.Query(ctx,
		`SELECT k.column_name
		FROM information_schema.table_constraints c
		JOIN information_schema.key_column_usage k
			ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name
			AND k.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.table_name = $1 AND c.constraint_type = 'PRIMARY KEY'
		ORDER BY k.ordinal_position`, name)
	if err != nil {
		return nil, fmt.Errorf("transfer: unable to read the primary key of %s: %w", name, err)
	}
	pk, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("transfer: unable to read the primary key of %s: %w", name, err)
	}
	return pk, nil
}

// tables lists the source's tables, without SQLite's own and the
// schema's bookkeeping.
func (s *source) tables(ctx context.Context) ([]string, error) {
	rows, err := s.tx.QueryContext(ctx,
		`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("transfer: unable to list the tables of %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("transfer: unable to list the tables of %s: %w", s.path, err)
		}
		if !slices.Contains(bookkeeping, n) {
			out = append(out, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("transfer: unable to list the tables of %s: %w", s.path, err)
	}
	return out, nil
}

// columns lists the columns of the source's table name.
func (s *source) columns(ctx context.Context, name string) ([]string, error) {
	rows, err := s.tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, name)
	if err != nil {
		return nil, fmt.Errorf("transfer: unable to read the columns of %s in %s: %w", name, s.path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("transfer: unable to read the columns of %s in %s: %w", name, s.path, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("transfer: unable to read the columns of %s in %s: %w", name, s.path, err)
	}
	return out, nil
}

// sequences returns, for each table with an AUTOINCREMENT key, the
// highest id SQLite has given: deleted rows' ids are not given again.
func (s *source) sequences(ctx context.Context) (map[string]int64, error) {
	seqs := map[string]int64{}
	var exists int
	err := s.tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_sequence'`).Scan(&exists)
	if err != nil || exists == 0 {
		return seqs, err
	}
	rows, err := s.tx.QueryContext(ctx, `SELECT name, seq FROM sqlite_sequence`)
	if err != nil {
		return nil, fmt.Errorf("transfer: unable to read the sequences of %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			n   string
			seq int64
		)
		if err := rows.Scan(&n, &seq); err != nil {
			return nil, fmt.Errorf("transfer: unable to read the sequences of %s: %w", s.path, err)
		}
		seqs[n] = seq
	}
	return seqs, rows.Err()
}

// listOrNone lists names for a message.
func listOrNone(names []string) string {
	if len(names) == 0 {
		return "no table"
	}
	return strings.Join(names, ", ")
}
