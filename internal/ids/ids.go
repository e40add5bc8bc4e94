// Package ids makes invocation ids: 26 characters of Crockford base-32, a
// millisecond timestamp followed by randomness, like a ULID, so that ids
// sort by creation time. It is a leaf: the orchestrator names the runs it
// records with it, and a manager whose scheduler queues jobs without a
// data plane uses it without importing the orchestrator.
package ids

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// Alphabet is Crockford's base-32 alphabet: no I, L, O or U, so ids read
// aloud or copied by hand stay unambiguous.
const Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Len is the length of an id: 10 characters of millisecond timestamp and
// 16 of randomness.
const Len = 26

// Generator makes ids that sort by creation time: a 48-bit Unix
// millisecond timestamp followed by 80 random bits. Within one millisecond
// the random part is incremented, so ids from one generator are strictly
// increasing. The zero value is ready to use and safe for concurrent use.
type Generator struct {
	mu     sync.Mutex
	lastMS uint64
	hi     uint16 // the top 16 of the 80 random bits
	lo     uint64 // the low 64
}

// Next returns the id of something created at t. A clock going back does
// not make an id sort before the previous one.
func (g *Generator) Next(t time.Time) string {
	ms := uint64(t.UnixMilli()) & (1<<48 - 1)
	g.mu.Lock()
	if ms <= g.lastMS {
		ms = g.lastMS
		g.lo++
		if g.lo == 0 {
			g.hi++
			if g.hi == 0 { // 2^80 ids in one millisecond: move on to the next
				ms++
			}
		}
	} else {
		var b [10]byte
		rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
		g.hi = binary.BigEndian.Uint16(b[:2])
		g.lo = binary.BigEndian.Uint64(b[2:])
	}
	g.lastMS = ms
	hi, lo := g.hi, g.lo
	g.mu.Unlock()

	var out [Len]byte
	for i := 9; i >= 0; i-- {
		out[i] = Alphabet[ms&31]
		ms >>= 5
	}
	for i := Len - 1; i >= 10; i-- {
		out[i] = Alphabet[lo&31]
		lo = lo>>5 | uint64(hi)<<59
		hi >>= 5
	}
	return string(out[:])
}

// New returns a source of ids read off the wall clock, for a process that
// queues jobs without serving the data plane: the cluster's manager, whose
// scheduler fires schedules. Ids of different sources never collide (80
// random bits per millisecond).
func New() func() string {
	g := new(Generator)
	return func() string { return g.Next(time.Now()) }
}
