package payload

import "testing"

var benchInputs = []string{
	"/catalog/items?category=shoes&sort=price&page=3",
	"/search?q=red+running+shoes+size+42&lang=en-US",
	"/item.php?id=1%27%20OR%20%271%27%3D%271",
}

func benchKind(b *testing.B, k Kind) {
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range benchInputs {
			Detect(k, s)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchInputs)), "ns/request")
}

func BenchmarkSQLi(b *testing.B)      { benchKind(b, SQL) }
func BenchmarkXSS(b *testing.B)       { benchKind(b, XSS) }
func BenchmarkCommand(b *testing.B)   { benchKind(b, Command) }
func BenchmarkTraversal(b *testing.B) { benchKind(b, Traversal) }
