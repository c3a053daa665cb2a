package main

import (
	"fmt"
	"strings"
)

// chart draws the medians as horizontal bars, one group per unit.
func chart(results []Result) string {
	const width, bar, left = 760, 22, 330
	var b strings.Builder
	height := 40 + (bar+8)*len(results) + 30
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="13">`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="16" font-weight="bold">scratchcontainer bench (medians)</text>`+"\n")
	max := map[string]float64{}
	for _, r := range results {
		if r.Median > max[r.Unit] {
			max[r.Unit] = r.Median
		}
	}
	y := 40
	for _, r := range results {
		w := 0.0
		if max[r.Unit] > 0 {
			w = r.Median / max[r.Unit] * float64(width-left-110)
		}
		color := "#4a7ebb"
		if r.Unit == "MB/s" {
			color = "#5aa05a"
		}
		fmt.Fprintf(&b, `<text x="10" y="%d">%s</text>`+"\n", y+16, escape(r.Name))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", left, y, w, bar, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.1f %s</text>`+"\n", float64(left)+w+6, y+16, r.Median, r.Unit)
		y += bar + 8
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
