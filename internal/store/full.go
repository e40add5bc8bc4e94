package store

import (
	"errors"
	"reflect"
	"strings"
)

// IsFull reports whether err is a write refused for want of space:
// ErrFull, or the error of a driver that says so (SQLite's SQLITE_FULL,
// PostgreSQL's disk_full), which the backend packages that package
// sqlstore replaces pass on without classifying it.
//
// The drivers' errors are recognised by their methods rather than their
// types: this package is imported by every binary, and importing the
// SQLite driver here would link SQLite into the cluster's binaries, which
// never open it.
func IsFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrFull) {
		return true
	}
	// modernc.org/sqlite's *Error: Code is the extended result code, whose
	// low byte is the primary one; SQLITE_FULL is 13. Only that driver's
	// type is trusted with this meaning of Code.
	var coded interface{ Code() int }
	if errors.As(err, &coded) && fromPackage(coded, "modernc.org/sqlite") && coded.Code()&0xff == sqliteFull {
		return true
	}
	// pgconn's *PgError: SQLSTATE 53100 is disk_full.
	var pg interface{ SQLState() string }
	return errors.As(err, &pg) && pg.SQLState() == pgDiskFull
}

const (
	sqliteFull = 13      // SQLITE_FULL
	pgDiskFull = "53100" // disk_full
)

// fromPackage reports whether v's type, or the type it points to, is
// declared in the package at path or one below it.
func fromPackage(v any, path string) bool {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	p := t.PkgPath()
	return p == path || strings.HasPrefix(p, path+"/")
}
