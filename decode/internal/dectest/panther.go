package dectest

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// Panther returns the event objects of a Panther rule-test file under the
// shared data (rel, slash-separated, e.g. "cloud/aws_waf/x.jsonl"), those
// whose log_type is logType or all when logType is empty. It skips the
// test when the file is not there.
func Panther(t *testing.T, rel, logType string) [][]byte {
	t.Helper()
	// Tests run in their package's folder, decode/<format>.
	path := filepath.Join(append([]string{"..", "..", "..", "shared", "data"}, strings.Split(rel, "/")...)...)
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("shared data not available (%v)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var p fastjson.Parser
	var out [][]byte
	for sc.Scan() {
		v, err := p.ParseBytes(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if logType == "" || string(v.GetStringBytes("log_type")) == logType {
			out = append(out, v.Get("event").MarshalTo(nil))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
