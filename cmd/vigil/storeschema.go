//go:build !teststore

package main

// testStoreSchema gives test builds a PostgreSQL schema per data dir
// (storeschema_teststore.go; the tests' own process sets it in
// e2e_helpers_test.go); other builds keep the settings as they are.
var testStoreSchema = func(*Config) {}
