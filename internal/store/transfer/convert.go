package transfer

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/picloud/picloud/internal/store"
)

// The target column types the copy knows, as information_schema.columns
// names them. A column of another type stops the copy before anything is
// written: its conversion would be a guess.
const (
	typeBigint      = "bigint"
	typeInteger     = "integer"
	typeSmallint    = "smallint"
	typeText        = "text"
	typeBoolean     = "boolean"
	typeTimestamptz = "timestamp with time zone"
	typeJSONB       = "jsonb"
	typeBytea       = "bytea"
)

// knownType reports whether convert handles a column of type t.
func knownType(t string) bool {
	switch t {
	case typeBigint, typeInteger, typeSmallint, typeText, typeBoolean, typeTimestamptz, typeJSONB, typeBytea:
		return true
	}
	return false
}

// zeroTimeRule gives the target's value of a time that SQLite stores as 0,
// "no time", for the columns where it is not the general rule's: NULL in
// a nullable column, the zero time.Time in a NOT NULL one, which is what
// the PostgreSQL store writes for a zero time in each. field returns
// another column's source value in the same row.
type zeroTimeRule func(field func(name string) any) pgtype.Timestamptz

var (
	nullTime   = pgtype.Timestamptz{}
	minusInfty = pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
)

// zeroTimes are the exceptions, by table and column. They follow the
// PostgreSQL store's runAt (postgres/jobs.go): a job that waits or runs
// always has a run_at, -infinity when it is due at once (SQLite's 0),
// while NULL marks a job that ended; a job turn's claimed_at is written
// by runAt too.
var zeroTimes = map[string]zeroTimeRule{
	"jobs.run_at": func(field func(string) any) pgtype.Timestamptz {
		switch field("state") {
		case store.JobQueued, store.JobError, store.JobRunning:
			return minusInfty
		}
		return nullTime
	},
	"job_turns.claimed_at": func(func(string) any) pgtype.Timestamptz { return minusInfty },
}

// convert returns the target's value of column c of table t for v, the
// source's value as modernc's driver reads it (int64, float64, string,
// []byte or nil); field returns the source's value of another column of
// the row. The result is what the copy sends and what the checksum
// hashes: nil, int64, bool, string (text and jsonb), []byte or
// pgtype.Timestamptz.
func convert(t *table, c column, v any, field func(string) any) (any, error) {
	if v == nil {
		if !c.nullable {
			return nil, fmt.Errorf("NULL in a NOT NULL column")
		}
		return nil, nil
	}
	switch c.dataType {
	case typeBigint, typeInteger, typeSmallint:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("%T %v where an integer belongs", v, v)
		}
		if c.dataType == typeInteger && (n < math.MinInt32 || n > math.MaxInt32) ||
			c.dataType == typeSmallint && (n < math.MinInt16 || n > math.MaxInt16) {
			return nil, fmt.Errorf("%d does not fit the target's %s", n, c.dataType)
		}
		return n, nil

	case typeBoolean:
		switch v {
		case int64(0):
			return false, nil
		case int64(1):
			return true, nil
		}
		return nil, fmt.Errorf("%T %v where a boolean (0 or 1) belongs", v, v)

	case typeTimestamptz:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("%T %v where a time (nanoseconds) belongs", v, v)
		}
		if n != 0 {
			// PostgreSQL keeps microseconds; the PostgreSQL store
			// truncates every time it is given the same way.
			return pgtype.Timestamptz{Time: time.Unix(0, n).UTC().Truncate(time.Microsecond), Valid: true}, nil
		}
		if rule, ok := zeroTimes[t.name+"."+c.name]; ok {
			ts := rule(field)
			if !ts.Valid && !c.nullable {
				return nil, fmt.Errorf("0 would be NULL in a NOT NULL column")
			}
			return ts, nil
		}
		if c.nullable {
			return nullTime, nil
		}
		return pgtype.Timestamptz{Time: time.Time{}, Valid: true}, nil

	case typeText:
		s, err := text(v)
		if err != nil {
			return nil, err
		}
		// PostgreSQL's text takes neither, and would refuse the whole
		// copy without naming the row.
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("the text is not valid UTF-8")
		}
		if strings.IndexByte(s, 0) >= 0 {
			return nil, fmt.Errorf("the text holds a NUL byte")
		}
		return s, nil

	case typeJSONB:
		s, err := text(v)
		if err != nil {
			return nil, err
		}
		if !json.Valid([]byte(s)) {
			return nil, fmt.Errorf("the value is not JSON")
		}
		return s, nil

	case typeBytea:
		switch b := v.(type) {
		case []byte:
			return b, nil
		case string:
			return []byte(b), nil
		}
		return nil, fmt.Errorf("%T %v where bytes belong", v, v)
	}
	return nil, fmt.Errorf("the target's type %s is unknown to the copy", c.dataType)
}

// text reads a text value, which SQLite may hold as a blob.
func text(v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case []byte:
		return string(s), nil
	}
	return "", fmt.Errorf("%T %v where text belongs", v, v)
}
