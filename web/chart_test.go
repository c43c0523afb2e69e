package web

import (
	"strings"
	"testing"
	"time"
)

func TestNiceMax(t *testing.T) {
	for in, want := range map[int64]int64{0: 1, 1: 1, 3: 5, 10: 10, 11: 20, 199: 200, 201: 500, 999: 1000} {
		if got := niceMax(in); got != want {
			t.Errorf("niceMax(%d) = %d, want %d", in, got, want)
		}
	}
}

// TestTimeChartStacksSeries: every non-zero value is one bar segment with
// its tooltip, a bucket's segments stack to its total, and a series' name
// cannot break out of the SVG.
func TestTimeChartStacksSeries(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := TimeChart{Label: "alerts", Width: time.Hour,
		Buckets: []time.Time{t0, t0.Add(time.Hour), t0.Add(2 * time.Hour)},
		Series: []ChartSeries{
			{Name: "high", Class: "fill-high", Values: []int64{2, 0, 5}},
			{Name: "<script>", Class: "fill-low", Values: []int64{3, 1, 0}},
		}}
	out := string(timeChart(c))
	if n := strings.Count(out, "<rect"); n != 4 {
		t.Errorf("%d bar segments, want 4:\n%s", n, out)
	}
	if strings.Contains(out, "<script>") {
		t.Errorf("a series name is not escaped:\n%s", out)
	}
	if !strings.Contains(out, "Dec 01 02:00 · high: 5") {
		t.Errorf("no tooltip for the 02:00 high bar:\n%s", out)
	}
	if !strings.Contains(string(timeChart(TimeChart{})), "no alerts") {
		t.Error("an empty chart does not say it is empty")
	}
}
