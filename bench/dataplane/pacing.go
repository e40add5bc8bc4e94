package main

import (
	"fmt"
	"time"
)

// Pacings of the open loop: how a worker waits for its next request's
// due time.
const (
	// pacingTimerfd waits on a Linux timerfd read through the runtime's
	// network poller: woken within tens of microseconds of the due time.
	pacingTimerfd = "timerfd"
	// pacingSleep waits with time.Sleep. When the process has nothing
	// else to run, the runtime sleeps in epoll_wait, whose timeout is in
	// whole milliseconds, so wake-ups come up to a millisecond late: about
	// 0.5 ms at the median, 1.1–1.4 ms at p99 on an idle machine, lateness
	// that the open loop counts as latency of whichever server it drives.
	pacingSleep = "sleep"
)

// pacer makes one worker wait until its requests are due.
type pacer interface {
	// wait returns at due or after it, never before.
	wait(due time.Time) error
	close()
}

// newPacer returns a worker's pacer of the given kind.
func newPacer(kind string) (pacer, error) {
	switch kind {
	case pacingSleep:
		return sleepPacer{}, nil
	case pacingTimerfd:
		return newTimerfdPacer()
	}
	return nil, fmt.Errorf("-pacing is %s or %s, not %q", pacingTimerfd, pacingSleep, kind)
}

type sleepPacer struct{}

func (sleepPacer) wait(due time.Time) error {
	if d := time.Until(due); d > 0 {
		time.Sleep(d)
	}
	return nil
}

func (sleepPacer) close() {}
