// Package redact removes secrets (passwords, keys) from messages before they reach errors, logs
// and SHOW output. It has no dependencies, so every connector package can use it.
package redact
