// Package state will hold versioned keyed operator state and its checkpoint files (Arrow IPC
// snapshots per epoch with retention). It imports only Arrow.
package state
