package main

import (
	"fmt"
	"math"
	"strings"
)

// Chart geometry, in pixels: the labels take the left, the bars the rest.
const (
	chartWidth = 820
	labelWidth = 300
	plotWidth  = 420
	barHeight  = 20
	barGap     = 8
)

// chart draws two panels, each on its own axis: the start-to-exit latency
// of one container (median bars, p90 whiskers; runc and the unshare floor
// in their own colours and as dashed lines across the panel), then TCP
// throughput in MiB/s. Twenty containers at once is a total, not one
// container's latency: it is a line of text between the panels, so it
// does not squeeze the latency bars.
func chart(results []Result) string {
	var latency, concurrent, throughput []Result
	for _, r := range results {
		switch r.Kind {
		case "latency":
			latency = append(latency, r)
		case "concurrent":
			concurrent = append(concurrent, r)
		case "throughput":
			throughput = append(throughput, r)
		}
	}
	var body strings.Builder
	y := 40
	y = panel(&body, y, "Start to exit of /bin/true, one container (median; whisker: p90)", "ms", latency, true)
	for _, r := range concurrent {
		y += 6
		fmt.Fprintf(&body, `<text x="10" y="%d" font-weight="bold">%s: %.0f ms from the first start to the last exit%s</text>`+"\n",
			y, escape(r.Name), r.Median, escape(note(r.Note)))
		y += 24
	}
	y += 16
	y = panel(&body, y, "TCP throughput, 256 MiB a run (median)", "MiB/s", throughput, false)

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="13">`+"\n", chartWidth, y+10)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="16" font-weight="bold">scratchcontainer bench</text>`+"\n")
	b.WriteString(body.String())
	b.WriteString("</svg>\n")
	return b.String()
}

// panel draws one titled group of bars on an axis of its own, from 0 to a
// round number above the largest value, and returns the y below it.
func panel(b *strings.Builder, y int, title, unit string, results []Result, marks bool) int {
	fmt.Fprintf(b, `<text x="10" y="%d" font-weight="bold">%s</text>`+"\n", y, escape(title))
	y += 24 // room for the runc and floor labels above the bars
	if len(results) == 0 {
		fmt.Fprintf(b, `<text x="10" y="%d">not measured</text>`+"\n", y+14)
		return y + 24
	}
	max := 0.0
	for _, r := range results {
		max = math.Max(max, math.Max(r.Median, r.P90))
	}
	step := niceStep(max / 5)
	top := math.Ceil(max/step) * step
	if top == 0 {
		top = 1
	}
	x := func(v float64) float64 { return labelWidth + v/top*plotWidth }
	plotTop, plotBottom := y, y+len(results)*(barHeight+barGap)

	// Grid and axis: a line and a number at each step.
	for v := 0.0; v <= top+step/2; v += step {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x(v), plotTop, x(v), plotBottom)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="#555">%s</text>`+"\n", x(v), plotBottom+14, tick(v))
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="#555">%s</text>`+"\n", x(top/2), plotBottom+28, unit)

	for i, r := range results {
		by := plotTop + i*(barHeight+barGap)
		color := "#4a7ebb"
		switch {
		case !marks:
			color = "#5aa05a"
		case r.Name == runcName:
			color = "#e08a2c"
		case r.Name == floorName:
			color = "#888"
		}
		fmt.Fprintf(b, `<text x="10" y="%d">%s</text>`+"\n", by+15, escape(r.Name))
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", labelWidth, by, x(r.Median)-labelWidth, barHeight, color)
		label := fmt.Sprintf("%.1f %s", r.Median, unit)
		if !marks {
			label = fmt.Sprintf("%.0f %s", r.Median, unit) // throughput: whole MiB/s
		}
		end := x(r.Median)
		if marks && r.P90 > r.Median {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", x(r.Median), by+barHeight/2, x(r.P90), by+barHeight/2)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", x(r.P90), by+4, x(r.P90), by+barHeight-4)
			end = x(r.P90)
		}
		if r.Note != "" {
			label += "  " + r.Note
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="12">%s</text>`+"\n", end+6, by+15, escape(label))
	}
	if marks {
		for _, m := range []struct{ name, label, color string }{{runcName, "runc", "#e08a2c"}, {floorName, "floor", "#888"}} {
			for _, r := range results {
				if r.Name == m.name && r.Median > 0 {
					fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-dasharray="4 3"/>`+"\n", x(r.Median), plotTop-4, x(r.Median), plotBottom, m.color)
					fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="%s">%s</text>`+"\n", x(r.Median), plotTop-6, m.color, m.label)
				}
			}
		}
	}
	return plotBottom + 44
}

// niceStep rounds a raw axis step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func tick(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", v)
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
