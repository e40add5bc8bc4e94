//go:build !linux

package main

import "errors"

// defaultPacing is the open loop's pacing where none is asked for.
const defaultPacing = pacingSleep

func newTimerfdPacer() (pacer, error) {
	return nil, errors.New("-pacing timerfd needs Linux")
}
