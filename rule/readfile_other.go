//go:build !unix

package rule

import "os"

// readRuleFile reads a rule file unless it is larger than limit (large
// then holds its size). stamp is the size and time os.Stat found before
// reading.
func readRuleFile(path string, limit int64) (data []byte, stamp FileStamp, large int64, err error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, stamp, 0, err
	}
	if info.Size() > limit {
		return nil, stamp, info.Size(), nil
	}
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, stamp, 0, err
	}
	return data, FileStamp{Size: info.Size(), Mod: info.ModTime()}, 0, nil
}
