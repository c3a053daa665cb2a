package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

var sample = []Result{
	{Name: "scratchcontainer run -net none", Kind: "latency", Unit: "ms", Median: 11.9, P90: 13.1, Runs: 30},
	{Name: "scratchcontainer run (veth)", Kind: "latency", Unit: "ms", Median: 16.2, P90: 18.0, Runs: 30},
	{Name: "scratchcontainer run -p 18990:80", Kind: "latency", Unit: "ms", Median: 21.4, P90: 25.3, Runs: 30},
	{Name: runcName, Kind: "latency", Unit: "ms", Median: 38.5, P90: 41.0, Runs: 30},
	{Name: floorName, Kind: "latency", Unit: "ms", Median: 3.2, P90: 3.9, Runs: 30},
	{Name: "20 containers at once (networked, -p)", Kind: "concurrent", Unit: "ms", Median: 412, Runs: 1},
	{Name: "TCP to the container's address", Kind: "throughput", Unit: "MiB/s", Median: 2900, P90: 2500, Runs: 7},
	{Name: "TCP through published 127.0.0.1:18991", Kind: "throughput", Unit: "MiB/s", Median: 2400, P90: 2100, Runs: 7},
	{Name: "TCP over the host's loopback", Kind: "throughput", Unit: "MiB/s", Median: 4100, P90: 3900, Runs: 7},
}

// Latency and throughput each get their own axis; twenty at once is a line
// of text, not a bar that would dwarf the latencies.
func TestChartPanels(t *testing.T) {
	svg := chart(sample)
	if path := os.Getenv("BENCH_CHART"); path != "" { // to look at it: BENCH_CHART=/tmp/c.svg
		os.WriteFile(path, []byte(svg), 0o644)
	}
	assert.Equal(t, 8, strings.Count(svg, "<rect x="), "a bar per latency and throughput case, none for twenty at once")
	assert.Contains(t, svg, ">ms</text>")
	assert.Contains(t, svg, ">MiB/s</text>")
	assert.NotContains(t, svg, "MB/s")
	assert.Contains(t, svg, "20 containers at once (networked, -p): 412 ms from the first start to the last exit")
	assert.Contains(t, svg, ">runc</text>")
	assert.Contains(t, svg, ">floor</text>")
}

func TestNiceStep(t *testing.T) {
	assert.Equal(t, 10.0, niceStep(7.7))
	assert.Equal(t, 1000.0, niceStep(820))
	assert.Equal(t, 2.0, niceStep(1.5))
	assert.Equal(t, 1.0, niceStep(0))
}
