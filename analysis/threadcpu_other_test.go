//go:build !linux

package analysis

func threadCPU() int64 { return -1 }

func processCPU() int64 { return -1 }
