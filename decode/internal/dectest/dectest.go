// Package dectest holds what the decoders' tests and benchmarks share. On
// a shared machine a benchmark's wall clock counts time spent waiting for a
// core; records per CPU second (CPUTime) does not.
package dectest
