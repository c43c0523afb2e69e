//go:build !unix

package rule

import "os"

// readRuleFile reads a rule file unless it is larger than limit (large
// then holds its size).
func readRuleFile(path string, limit int64) (data []byte, large int64, err error) {
	if info, err := os.Stat(path); err == nil && info.Size() > limit {
		return nil, info.Size(), nil
	}
	data, err = os.ReadFile(path)
	return data, 0, err
}
