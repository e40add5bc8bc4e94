//go:build race

package transfer

// raceEnabled: the race detector slows the copy tenfold, so timings mean
// nothing.
const raceEnabled = true
