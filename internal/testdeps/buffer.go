package testdeps

import (
	"bytes"
	"sync"
)

// Buffer is an io.Writer safe for concurrent use, read while it is
// written: the output of a process or a logger that a test watches while
// it runs (the tests of real binaries, which need the dependencies above).
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
