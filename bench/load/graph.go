package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

const graphW, graphH = 1200, 900

var (
	white   = color.RGBA{255, 255, 255, 255}
	black   = color.RGBA{0, 0, 0, 255}
	grey    = color.RGBA{220, 220, 220, 255}
	palette = []color.RGBA{{31, 119, 180, 255}, {214, 39, 40, 255}, {44, 160, 44, 255}, {148, 103, 189, 255}, {255, 127, 14, 255}}
)

// series is one line of a panel.
type series struct {
	name string
	y    []float64
}

// writeGraph draws memory, bus lag and rate over time, one panel each,
// from the samples.
func writeGraph(path string, rows []sample, procs int, title string) error {
	img := image.NewRGBA(image.Rect(0, 0, graphW, graphH))
	draw.Draw(img, img.Bounds(), &image.Uniform{white}, image.Point{}, draw.Src)
	x := make([]float64, len(rows))
	for i, r := range rows {
		x[i] = r.T.Seconds()
	}
	var mem []series
	for p := range procs {
		s := series{name: fmt.Sprintf("RSS process %d (MiB)", p)}
		for _, r := range rows {
			s.y = append(s.y, r.RSS[p]/(1<<20))
		}
		mem = append(mem, s)
	}
	lag := []series{{name: "bus lag (batches)"}}
	rate := []series{{name: "target"}, {name: "offered"}, {name: "acknowledged"}, {name: "detected"}}
	for _, r := range rows {
		lag[0].y = append(lag[0].y, r.Lag)
		rate[0].y = append(rate[0].y, r.Target)
		rate[1].y = append(rate[1].y, r.Offered)
		rate[2].y = append(rate[2].y, r.Acked)
		rate[3].y = append(rate[3].y, r.Detected)
	}
	label(img, 10, 18, "vigil load "+title+" - time in seconds", black)
	panelH := (graphH - 30) / 3
	plot(img, image.Rect(0, 30, graphW, 30+panelH), "memory (MiB)", x, mem)
	plot(img, image.Rect(0, 30+panelH, graphW, 30+2*panelH), "bus lag (batches)", x, lag)
	plot(img, image.Rect(0, 30+2*panelH, graphW, 30+3*panelH), "rate (events/s)", x, rate)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-png: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("-png %s: %w", path, err)
	}
	return f.Close()
}

// plot draws one panel: axes with ticks and labels, a line a series, a
// legend.
func plot(img *image.RGBA, r image.Rectangle, title string, x []float64, ss []series) {
	area := image.Rect(r.Min.X+80, r.Min.Y+25, r.Max.X-20, r.Max.Y-35)
	xmin, xmax := bounds(x)
	ymax := 0.0
	for _, s := range ss {
		_, m := bounds(s.y)
		ymax = max(ymax, m)
	}
	ymax = niceCeil(ymax * 1.05) // headroom: a flat line at the maximum stays off the frame
	if xmax <= xmin {
		xmax = xmin + 1
	}
	px := func(v float64) int { return area.Min.X + int((v-xmin)/(xmax-xmin)*float64(area.Dx())) }
	py := func(v float64) int { return area.Max.Y - int(v/ymax*float64(area.Dy())) }
	label(img, r.Min.X+80, r.Min.Y+16, title, black)
	for i := 0; i <= 4; i++ { // y ticks and grid
		v := ymax * float64(i) / 4
		y := py(v)
		line(img, area.Min.X, y, area.Max.X, y, grey)
		line(img, area.Min.X-5, y, area.Min.X, y, black)
		label(img, r.Min.X+5, y+4, short(v), black)
	}
	for i := 0; i <= 6; i++ { // x ticks
		v := xmin + (xmax-xmin)*float64(i)/6
		xx := px(v)
		line(img, xx, area.Max.Y, xx, area.Max.Y+5, black)
		txt := short(v)
		label(img, min(xx-12, r.Max.X-7*len(txt)-2), area.Max.Y+18, txt, black) // the last stays on the canvas
	}
	line(img, area.Min.X, area.Min.Y, area.Min.X, area.Max.Y, black)
	line(img, area.Min.X, area.Max.Y, area.Max.X, area.Max.Y, black)
	for k, s := range ss {
		c := palette[k%len(palette)]
		for i := 1; i < len(s.y) && i < len(x); i++ {
			line(img, px(x[i-1]), py(s.y[i-1]), px(x[i]), py(s.y[i]), c)
		}
		lx := area.Max.X - 260
		ly := area.Min.Y + 14 + 15*k
		line(img, lx, ly-4, lx+20, ly-4, c)
		label(img, lx+26, ly, s.name, black)
	}
}

func bounds(v []float64) (lo, hi float64) {
	if len(v) == 0 {
		return 0, 0
	}
	lo, hi = v[0], v[0]
	for _, f := range v {
		lo, hi = min(lo, f), max(hi, f)
	}
	return lo, hi
}

// niceCeil rounds an axis maximum up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func short(v float64) string {
	switch {
	case math.Abs(v) >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
	case math.Abs(v) >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 0, 64) + "k"
	case v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func label(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// line draws with Bresenham's algorithm, two pixels thick vertically so
// the series read at a glance.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		img.SetRGBA(x0, y0, c)
		if c != grey {
			img.SetRGBA(x0, y0+1, c)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
