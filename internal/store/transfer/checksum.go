package transfer

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5/pgtype"
)

// checksum hashes a table's rows in a canonical encoding, so that the
// rows the copy sent and the rows PostgreSQL gives back hash the same
// exactly when they hold the same values. Both sides hash the target's
// values (those convert returns), read in the order of the primary key:
// byte order for text on both (SQLite's BINARY collation, PostgreSQL's
// "C"). Each value is a tag, then its content; text, JSON and bytes are
// preceded by their length, so no two rows encode alike.
type checksum struct {
	h    hash.Hash
	buf  []byte
	rows int64
}

func newChecksum() *checksum { return &checksum{h: sha256.New()} }

// Tags of the canonical encoding.
const (
	tagNull byte = iota
	tagInt
	tagBool
	tagText
	tagBytes
	tagJSON
	tagTime
	tagInfinity
)

// add hashes one row of t: values in the order of t.columns.
func (c *checksum) add(t *table, values []any) error {
	b := c.buf[:0]
	for i, v := range values {
		var err error
		if b, err = appendValue(b, t.columns[i], v); err != nil {
			return fmt.Errorf("column %s: %w", t.columns[i].name, err)
		}
	}
	c.buf = b
	c.h.Write(b)
	c.rows++
	return nil
}

func (c *checksum) sum() (s [32]byte) {
	c.h.Sum(s[:0])
	return s
}

// appendValue appends the canonical encoding of v, a value of column col
// as convert returns it, to b.
func appendValue(b []byte, col column, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, tagNull), nil
	case int64:
		return binary.BigEndian.AppendUint64(append(b, tagInt), uint64(v)), nil
	case bool:
		if v {
			return append(b, tagBool, 1), nil
		}
		return append(b, tagBool, 0), nil
	case string:
		if col.dataType == typeJSONB {
			// jsonb keeps neither the text's spacing nor its keys'
			// order: what must match is the value.
			canon, err := canonicalJSON(v)
			if err != nil {
				return nil, err
			}
			return appendBytes(append(b, tagJSON), canon), nil
		}
		return appendBytes(append(b, tagText), []byte(v)), nil
	case []byte:
		return appendBytes(append(b, tagBytes), v), nil
	case pgtype.Timestamptz:
		switch {
		case !v.Valid:
			return append(b, tagNull), nil
		case v.InfinityModifier != pgtype.Finite:
			return append(b, tagInfinity, byte(int8(v.InfinityModifier))), nil
		}
		return binary.BigEndian.AppendUint64(append(b, tagTime), uint64(v.Time.UnixMicro())), nil
	}
	return nil, fmt.Errorf("no canonical encoding for %T", v)
}

func appendBytes(b, v []byte) []byte {
	return append(binary.BigEndian.AppendUint64(b, uint64(len(v))), v...)
}

// canonicalJSON encodes the JSON text s in one form for one value: no
// spaces, object keys sorted (the last of duplicates kept, as jsonb
// does), numbers as exact fractions, as jsonb prints 1e2 as 100.
func canonicalJSON(s string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("invalid JSON: text after the value")
	}
	var buf bytes.Buffer
	if err := writeCanonical(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeCanonical(w *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		w.WriteString("null")
	case bool:
		w.WriteString(strconv.FormatBool(v))
	case string:
		w.WriteString(strconv.Quote(v))
	case json.Number:
		r, ok := new(big.Rat).SetString(string(v))
		if !ok {
			return fmt.Errorf("invalid JSON number %q", v)
		}
		w.WriteString(r.RatString())
	case []any:
		w.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeCanonical(w, e); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(strconv.Quote(k))
			w.WriteByte(':')
			if err := writeCanonical(w, v[k]); err != nil {
				return err
			}
		}
		w.WriteByte('}')
	default:
		return fmt.Errorf("unexpected JSON value %T", v)
	}
	return nil
}
