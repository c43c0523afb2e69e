package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// TimeChart is counts over time in evenly spaced buckets, one series a
// key (a severity, a threat type), drawn as stacked bars.
type TimeChart struct {
	// Label names the chart for screen readers.
	Label string
	// Buckets are the buckets' starts, ascending, Width apart.
	Buckets []time.Time
	Width   time.Duration
	// Series stack bottom-up in this order; each has a value a bucket.
	Series []ChartSeries
	// Height in CSS pixels; 160 when 0.
	Height int
}

// ChartSeries is one stacked series.
type ChartSeries struct {
	Name string
	// Class is the CSS class that colours it (fill-high, fill-t3…).
	Class  string
	Values []int64
}

// niceMax rounds m up to 1, 2 or 5 times a power of ten, for the axis.
func niceMax(m int64) int64 {
	if m <= 1 {
		return 1
	}
	p := int64(math.Pow(10, math.Floor(math.Log10(float64(m)))))
	for _, f := range []int64{1, 2, 5, 10} {
		if f*p >= m {
			return f * p
		}
	}
	return 10 * p
}

// timeChart draws c as an inline SVG: stacked bars a bucket, the value
// axis's top value, a few time labels, and a tooltip (title) on every bar
// segment. The bars sit in an inner SVG that stretches to the container's
// width; the text sits in the outer one, placed in per cent, so that it
// keeps its size at any width (a stretched viewBox would stretch it too).
func timeChart(c TimeChart) template.HTML {
	const bottom, top = 18.0, 14.0
	h := float64(c.Height)
	if h == 0 {
		h = 160
	}
	n := len(c.Buckets)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" width="100%%" height="%.0f" role="img" aria-label="%s">`, h, template.HTMLEscapeString(c.Label))
	if n == 0 {
		fmt.Fprintf(&b, `<text x="50%%" y="%.0f" text-anchor="middle">no alerts in this range</text></svg>`, h/2)
		return template.HTML(b.String())
	}
	totals := make([]int64, n)
	for _, s := range c.Series {
		for i := 0; i < n && i < len(s.Values); i++ {
			totals[i] += s.Values[i]
		}
	}
	var peak int64
	for _, t := range totals {
		peak = max(peak, t)
	}
	ymax := niceMax(peak)
	plotH := h - bottom - top
	fmt.Fprintf(&b, `<line class="grid-line" x1="0" y1="%.1f" x2="100%%" y2="%.1f"/>`, top, top)
	fmt.Fprintf(&b, `<line class="grid-line" x1="0" y1="%.1f" x2="100%%" y2="%.1f"/>`, top+plotH, top+plotH)
	fmt.Fprintf(&b, `<text x="0" y="%.1f">%s</text>`, top-3, num(ymax))
	// Bars: a bucket is 10 units wide, heights in thousandths of ymax.
	const unit, gap, scale = 10.0, 2.0, 1000.0
	fmt.Fprintf(&b, `<svg x="0" y="%.1f" width="100%%" height="%.1f" viewBox="0 0 %.0f %.0f" preserveAspectRatio="none">`,
		top, plotH, unit*float64(n), scale)
	layout := "Jan 02 15:04"
	if c.Width >= 24*time.Hour {
		layout = "Jan 02"
	}
	base := make([]float64, n)
	for _, s := range c.Series {
		for i := 0; i < n && i < len(s.Values); i++ {
			v := s.Values[i]
			if v == 0 {
				continue
			}
			sh := scale * float64(v) / float64(ymax)
			y := scale - base[i] - sh
			base[i] += sh
			fmt.Fprintf(&b, `<rect class="%s" x="%.2f" y="%.2f" width="%.2f" height="%.2f"><title>%s · %s: %s</title></rect>`,
				template.HTMLEscapeString(s.Class), float64(i)*unit+gap/2, y, unit-gap, sh,
				c.Buckets[i].UTC().Format(layout), template.HTMLEscapeString(s.Name), num(v))
		}
	}
	b.WriteString(`</svg>`)
	ticks := min(n, 6)
	for k := 0; k < ticks; k++ {
		i := k * (n - 1) / max(ticks-1, 1)
		anchor, x := "middle", 100*(float64(i)+0.5)/float64(n)
		switch {
		case k == 0:
			anchor, x = "start", 0
		case k == ticks-1:
			anchor, x = "end", 100
		}
		fmt.Fprintf(&b, `<text x="%.2f%%" y="%.1f" text-anchor="%s">%s</text>`, x, h-4, anchor, c.Buckets[i].UTC().Format(layout))
	}
	b.WriteString(`</svg><div class="legend">`)
	for _, s := range c.Series {
		var sum int64
		for _, v := range s.Values {
			sum += v
		}
		fmt.Fprintf(&b, `<span><i class="swatch %s"></i>%s <span class="muted">%s</span></span>`,
			template.HTMLEscapeString(s.Class), template.HTMLEscapeString(s.Name), num(sum))
	}
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}
