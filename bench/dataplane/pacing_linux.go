package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// defaultPacing is the open loop's pacing where none is asked for.
const defaultPacing = pacingTimerfd

// timerfdPacer waits on a one-shot timerfd of the monotonic clock. The
// descriptor is non-blocking and read through an *os.File, so a waiting
// worker is parked in the runtime's network poller like one waiting for a
// response, and the kernel's timer, not epoll_wait's millisecond timeout,
// decides when it wakes.
type timerfdPacer struct {
	fd int
	f  *os.File
}

func newTimerfdPacer() (pacer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("timerfd_create: %w", err)
	}
	return &timerfdPacer{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

func (p *timerfdPacer) wait(due time.Time) error {
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(p.fd, 0, &spec, nil); err != nil {
		return fmt.Errorf("timerfd_settime: %w", err)
	}
	// The read returns the expirations (one) once the timer has fired.
	var expirations [8]byte
	if _, err := p.f.Read(expirations[:]); err != nil {
		return fmt.Errorf("reading the timerfd: %w", err)
	}
	return nil
}

func (p *timerfdPacer) close() { p.f.Close() }
