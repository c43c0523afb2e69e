//go:build !crashpoint

package main

import "github.com/vigil-sec/vigil/analysis"

// crashAfterCommits is the store the detect stage commits to. Builds with
// the crashpoint tag (tests only) wrap it to die between a commit and its
// acknowledgement; see crashpoint_on.go.
func crashAfterCommits(c analysis.Committer) analysis.Committer { return c }
