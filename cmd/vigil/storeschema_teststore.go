//go:build teststore

package main

import (
	"os"

	"github.com/vigil-sec/vigil/internal/teststore"
)

// In test builds (-tags teststore), a PostgreSQL store without a schema
// setting takes one of its data dir's own when VIGIL_TEST_SCHEMA_PREFIX is
// set (once the data dir is known: the demo makes its own): the
// end-to-end tests run many servers, each on its own data dir,
// against one database.
var testStoreSchema = func(c *Config) {
	if p := os.Getenv(teststore.EnvSchemaPrefix); p != "" && c.StoreSchema == "" && c.DataDir != "" {
		c.StoreSchema = teststore.SchemaFor(p, c.DataDir)
	}
}
