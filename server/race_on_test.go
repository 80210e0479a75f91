//go:build race

package server

// raceEnabled: the race detector is on. It gives every goroutine shadow memory of its own, so
// RSS limits measured for the real binary do not apply.
const raceEnabled = true
