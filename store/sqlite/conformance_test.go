package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
)

// TestConformance runs the store contract's suite on SQLite.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db := openAt(t, filepath.Join(t.TempDir(), "vigil.db"), Options{})
		return db
	})
}

// TestConformancePeople runs the suite of users, incidents and the streams
// on SQLite.
func TestConformancePeople(t *testing.T) {
	storetest.RunPeople(t, func(t *testing.T) storetest.People {
		return openAt(t, filepath.Join(t.TempDir(), "vigil.db"), Options{})
	})
}
