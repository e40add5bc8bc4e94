package orchestrator

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// crockford is Crockford's base-32 alphabet: no I, L, O or U, so ids read
// aloud or copied by hand stay unambiguous.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idLen is the length of an invocation id: 10 characters of millisecond
// timestamp and 16 of randomness, like a ULID.
const idLen = 26

// idGen makes invocation ids that sort by creation time: a 48-bit Unix
// millisecond timestamp followed by 80 random bits. Within one millisecond
// the random part is incremented, so ids from one process are strictly
// increasing.
type idGen struct {
	mu     sync.Mutex
	lastMS uint64
	hi     uint16 // the top 16 of the 80 random bits
	lo     uint64 // the low 64
}

func (g *idGen) next(t time.Time) string {
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

	var out [idLen]byte
	for i := 9; i >= 0; i-- {
		out[i] = crockford[ms&31]
		ms >>= 5
	}
	for i := idLen - 1; i >= 10; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | uint64(hi)<<59
		hi >>= 5
	}
	return string(out[:])
}

// NewIDs returns a source of invocation ids for a process that queues jobs
// without serving the data plane: the cluster's manager, whose scheduler
// fires schedules. Ids of different sources never collide (80 random bits
// per millisecond).
func NewIDs() func() string {
	g := new(idGen)
	return func() string { return g.next(time.Now()) }
}
