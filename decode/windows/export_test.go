package windows

import "github.com/vigil-sec/vigil/event"

// Differ returns a function that decodes a record with a Decoder and with
// the reference under dict and says how they disagree, or "": for tests
// outside the package (evtx_samples_test.go), which read records this
// package cannot import a reader for.
func Differ() func(dict *event.Dict, rec []byte) string {
	d, ref := New(), newRef()
	return func(dict *event.Dict, rec []byte) string { return differ(d, ref, dict, rec) }
}

// SigmaDict is sigmaDict for tests outside the package.
var SigmaDict = sigmaDict
