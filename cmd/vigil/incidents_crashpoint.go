//go:build !crashpoint

package main

// incidentCrashpoint is nil outside crashpoint builds (see
// incidents_crashpoint_on.go).
func incidentCrashpoint() func() { return nil }
