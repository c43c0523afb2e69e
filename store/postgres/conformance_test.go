package postgres

import (
	"testing"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
)

// TestConformance runs the store contract's suite on PostgreSQL.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}

// TestConformancePeople runs the suite of users, incidents and the streams
// on PostgreSQL.
func TestConformancePeople(t *testing.T) {
	storetest.RunPeople(t, func(t *testing.T) storetest.People { return openTest(t, Options{}) })
}
