// Package content holds what ships inside the vigil binary: vigil's own
// rule pack and the demo sample that `vigil demo` replays.
package content

import "embed"

// Rules is vigil's own rule pack (Sigma YAML).
//
//go:embed rules/*.yml
var Rules embed.FS

// Demo is the built-in multi-source sample: one file a source, named
// <source>.<format>.<ext>.
//
//go:embed demo/*
var Demo embed.FS
