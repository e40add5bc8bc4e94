package transfer

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// lockEmpty locks the target's tables against writers for the rest of the
// transaction, then checks that they hold no row: nothing may be
// overwritten, nor written beside the copy, by a server started on the
// target meanwhile. Readers still read, and see nothing until the commit.
func lockEmpty(ctx context.Context, tx pgx.Tx, tables []*table) error {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = pgx.Identifier{t.name}.Sanitize()
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(names, ", ")+` IN EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("transfer: unable to lock the target's tables: %w", err)
	}
	var full []string
	for i, t := range tables {
		var has bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM `+names[i]+`)`).Scan(&has); err != nil {
			return fmt.Errorf("transfer: unable to tell whether the target's %s is empty: %w", t.name, err)
		}
		if has {
			full = append(full, t.name)
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("%w: it has rows in %s; migrate into a new database (createdb), or one that only a picloud of this version created the schema in",
			ErrTargetNotEmpty, strings.Join(full, ", "))
	}
	return nil
}

// copyTable copies the source's table t into the target with COPY, in
// the order of its primary key, and returns its rows and the checksum of
// the values sent.
func copyTable(ctx context.Context, src *source, tx pgx.Tx, t *table) (TableReport, error) {
	ident := pgx.Identifier{t.name}.Sanitize()
	// The target was empty: rows here now were written by triggers on the
	// tables copied before (queue_usage, by apps' and jobs' inserts). The
	// source's rows, which its own triggers kept, replace them.
	if _, err := tx.Exec(ctx, `DELETE FROM `+ident); err != nil {
		return TableReport{}, fmt.Errorf("transfer: unable to clear %s: %w", t.name, err)
	}

	// A bytea column is read with whether it is NULL: the driver reads an
	// empty blob as a nil []byte, as it reads NULL.
	var sel []string
	for _, c := range t.columns {
		sel = append(sel, sqliteIdent(c.name))
		if c.dataType == typeBytea {
			sel = append(sel, sqliteIdent(c.name)+" IS NULL")
		}
	}
	var order []string
	for _, i := range t.pk {
		o := sqliteIdent(t.columns[i].name)
		if t.columns[i].dataType == typeText {
			o += " COLLATE BINARY"
		}
		order = append(order, o)
	}
	rows, err := src.tx.QueryContext(ctx,
		`SELECT `+strings.Join(sel, ", ")+` FROM `+sqliteIdent(t.name)+` ORDER BY `+strings.Join(order, ", "))
	if err != nil {
		return TableReport{}, fmt.Errorf("transfer: unable to read the source's %s: %w", t.name, err)
	}
	defer rows.Close()

	sum := newChecksum()
	raw := make([]any, len(sel))
	dest := make([]any, len(sel))
	for i := range raw {
		dest[i] = &raw[i]
	}
	byName := make(map[string]int, len(t.columns))
	var maxID []int64 // per identity column
	for i, c := range t.columns {
		byName[c.name] = i
		if c.identity {
			maxID = append(maxID, 0)
		}
	}
	values := make([]any, len(t.columns)) // the source's, bytea NULLs resolved
	field := func(name string) any { return values[byName[name]] }

	next := func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("transfer: unable to read the source's %s: %w", t.name, err)
		}
		for i, j := 0, 0; i < len(t.columns); i, j = i+1, j+1 {
			values[i] = raw[j]
			if t.columns[i].dataType == typeBytea {
				j++
				if isNull, _ := raw[j].(int64); isNull == 0 && values[i] == nil {
					values[i] = []byte{}
				}
			}
		}
		out := make([]any, len(t.columns))
		id := 0
		for i, c := range t.columns {
			v, err := convert(t, c, values[i], field)
			if err != nil {
				return nil, fmt.Errorf("transfer: %s %s, column %s: %w", t.name, rowKey(t, values), c.name, err)
			}
			out[i] = v
			if c.identity {
				if n, ok := v.(int64); ok && n > maxID[id] {
					maxID[id] = n
				}
				id++
			}
		}
		if err := sum.add(t, out); err != nil {
			return nil, fmt.Errorf("transfer: %s %s: %w", t.name, rowKey(t, values), err)
		}
		return out, nil
	}
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	// COPY writes identity columns as given, as INSERT's OVERRIDING
	// SYSTEM VALUE would, and fires the tables' triggers.
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, names, pgx.CopyFromFunc(next))
	if err != nil {
		return TableReport{}, fmt.Errorf("transfer: unable to copy %s: %w", t.name, err)
	}
	if n != sum.rows {
		return TableReport{}, fmt.Errorf("%w: %s: the target took %d rows of the %d sent", ErrVerify, t.name, n, sum.rows)
	}

	id := 0
	for _, c := range t.columns {
		if !c.identity {
			continue
		}
		if err := moveIdentity(ctx, tx, t, c, max(maxID[id], t.seq)); err != nil {
			return TableReport{}, err
		}
		id++
	}
	return TableReport{Name: t.name, Rows: sum.rows, Checksum: sum.sum()}, nil
}

// moveIdentity makes the next id that column c of t gives last+1, so that
// the target's new rows never reuse the ids of the source's.
func moveIdentity(ctx context.Context, tx pgx.Tx, t *table, c column, last int64) error {
	// setval(…, 1, false) for a table that never had a row: the first id
	// is then 1, as on a new install.
	next, called := last, true
	if last < 1 {
		next, called = 1, false
	}
	_, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), $3, $4)`,
		pgx.Identifier{t.name}.Sanitize(), c.name, next, called)
	if err != nil {
		return fmt.Errorf("transfer: unable to move the identity of %s.%s past %d: %w", t.name, c.name, last, err)
	}
	return nil
}

// verifyTable reads t back from the target, in the order of its primary
// key, and checks that it has the rows and the checksum that were sent.
func verifyTable(ctx context.Context, tx pgx.Tx, t *table, sent TableReport) error {
	var sel, order []string
	for _, c := range t.columns {
		s := pgx.Identifier{c.name}.Sanitize()
		if c.dataType == typeJSONB {
			s += "::text"
		}
		sel = append(sel, s)
	}
	for _, i := range t.pk {
		o := pgx.Identifier{t.columns[i].name}.Sanitize()
		if t.columns[i].dataType == typeText {
			o += ` COLLATE "C"`
		}
		order = append(order, o)
	}
	rows, err := tx.Query(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+pgx.Identifier{t.name}.Sanitize()+
		` ORDER BY `+strings.Join(order, ", "))
	if err != nil {
		return fmt.Errorf("transfer: unable to read back %s: %w", t.name, err)
	}
	defer rows.Close()

	sum := newChecksum()
	dest := make([]any, len(t.columns))
	for i, c := range t.columns {
		dest[i] = scanTarget(c)
	}
	values := make([]any, len(t.columns))
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("transfer: unable to read back %s: %w", t.name, err)
		}
		for i := range dest {
			values[i] = scanned(dest[i])
		}
		if err := sum.add(t, values); err != nil {
			return fmt.Errorf("transfer: read back %s %s: %w", t.name, rowKey(t, values), err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("transfer: unable to read back %s: %w", t.name, err)
	}
	if sum.rows != sent.Rows {
		return fmt.Errorf("%w: %s has %d rows in the target, %d in the source", ErrVerify, t.name, sum.rows, sent.Rows)
	}
	if got := sum.sum(); !bytes.Equal(got[:], sent.Checksum[:]) {
		return fmt.Errorf("%w: %s differs between the source and the target (checksum %x, want %x)",
			ErrVerify, t.name, got[:8], sent.Checksum[:8])
	}
	return nil
}

// scanTarget returns where to scan a value of column c read back from
// the target.
func scanTarget(c column) any {
	switch c.dataType {
	case typeBigint, typeInteger, typeSmallint:
		return new(pgtype.Int8)
	case typeBoolean:
		return new(pgtype.Bool)
	case typeTimestamptz:
		return new(pgtype.Timestamptz)
	case typeBytea:
		return new([]byte)
	}
	return new(pgtype.Text) // text, and jsonb read as text
}

// scanned returns the value scanTarget's destination d holds, in the form
// convert gives.
func scanned(d any) any {
	switch d := d.(type) {
	case *pgtype.Int8:
		if d.Valid {
			return d.Int64
		}
	case *pgtype.Bool:
		if d.Valid {
			return d.Bool
		}
	case *pgtype.Timestamptz:
		return *d
	case *[]byte:
		if *d != nil {
			return *d
		}
	case *pgtype.Text:
		if d.Valid {
			return d.String
		}
	}
	return nil
}

// rowKey names a row by its primary key, for a message: "(app_id 3, key
// "a")".
func rowKey(t *table, values []any) string {
	parts := make([]string, len(t.pk))
	for i, k := range t.pk {
		parts[i] = fmt.Sprintf("%s %#v", t.columns[k].name, values[k])
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// sqliteIdent quotes an identifier for SQLite.
func sqliteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
