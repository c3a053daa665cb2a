package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// The cases the others are compared with: the chart marks them.
const (
	runcName  = "runc run"
	floorName = "unshare + chroot (the floor)"
)

// Result is one measured case.
type Result struct {
	Name     string
	Kind     string // "latency", "concurrent" or "throughput": the chart draws each its own way
	Unit     string // "ms" or "MiB/s"
	Median   float64
	P90      float64 `json:",omitempty"`
	Runs     int
	Note     string `json:",omitempty"`
	Baseline string `json:",omitempty"` // the case Ratio compares with
	Ratio    float64
}

// show prints one result as it is measured.
func show(r Result) {
	if r.Unit == "ms" {
		fmt.Printf("%-40s median %7.2f ms  p90 %7.2f ms  (%d runs)%s\n", r.Name, r.Median, r.P90, r.Runs, note(r.Note))
	} else {
		fmt.Printf("%-40s %9.0f MiB/s%s\n", r.Name, r.Median, note(r.Note))
	}
}

func note(n string) string {
	if n == "" {
		return ""
	}
	return "  " + n
}

func percentile(xs []float64, p float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// ratio sets each result's Ratio to its median over the baseline's, for the
// results of the same unit measured before it.
func ratio(results []Result, baseline string) {
	var base *Result
	for i := range results {
		if results[i].Name == baseline {
			base = &results[i]
		}
	}
	if base == nil || base.Median == 0 {
		return
	}
	for i := range results {
		if results[i].Unit == base.Unit && results[i].Baseline == "" {
			results[i].Baseline = baseline
			results[i].Ratio = results[i].Median / base.Median
		}
	}
}

// write saves the results as JSON and as an SVG chart in out.
func write(out string, results []Result) error {
	b, _ := json.MarshalIndent(results, "", "  ")
	if err := os.WriteFile(filepath.Join(out, "results.json"), b, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "results.svg"), []byte(chart(results)), 0o644); err != nil {
		return err
	}
	fmt.Printf("results: %s/results.json, %s/results.svg\n", out, out)
	return nil
}
