//go:build !unix

package main

import "os"

// mapFile reads a file whole where mapping it is not done.
func mapFile(path string) (data []byte, unmap func(), err error) {
	data, err = os.ReadFile(path)
	return data, func() {}, err
}
