//go:build !teststore

package main

// testStoreSchema gives test builds a schema per data dir
// (storeschema_teststore.go); other builds keep the settings as they are.
func testStoreSchema(*Config) {}
