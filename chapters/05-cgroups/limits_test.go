package cgroups_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	cgroups "scratchcontainer/chapters/05-cgroups"
	"scratchcontainer/runtime/container"
)

func TestParseCPUs(t *testing.T) {
	for in, want := range map[string]int64{
		"0.5": 50_000, "1": 100_000, "2": 200_000, "0.01": 1_000, "1.25": 125_000, "0.333": 33_300,
	} {
		got, err := cgroups.ParseCPUs(in, 2)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"0", "-1", "0.001", "2.5", "3", "", "half", "NaN", "Inf", "1e400"} {
		_, err := cgroups.ParseCPUs(in, 2)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), "from 0.01 to 2", in)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "4096": 4096, "100b": 100, "1k": 1024, "1K": 1024, "48m": 48 << 20, "48M": 48 << 20,
		"2g": 2 << 30, "2G": 2 << 30, "8589934591g": 8589934591 << 30,
	} {
		got, err := cgroups.ParseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "m", "-1m", "+1m", "1.5g", "1 g", "1t", "1mb", "g1", "8589934592g", "99999999999999999999"} {
		_, err := cgroups.ParseSize(in)
		assert.Error(t, err, in)
	}
}

func TestParseMemory(t *testing.T) {
	got, err := cgroups.ParseMemory("48m")
	require.NoError(t, err)
	assert.Equal(t, int64(48<<20), got)
	for _, in := range []string{"0", "1m", "4194303", "lots"} {
		_, err := cgroups.ParseMemory(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), "-memory "+in+": give a size from 4 MiB upward", in)
	}
}

func TestParsePids(t *testing.T) {
	got, err := cgroups.ParsePids("16")
	require.NoError(t, err)
	assert.Equal(t, int64(16), got)
	for _, in := range []string{"0", "-1", "15", "ten", ""} {
		_, err := cgroups.ParsePids(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), "from 16 upward: pids.max counts threads", in)
	}
}

func TestParseLimitsDefaults(t *testing.T) {
	l, err := cgroups.ParseLimits(container.Config{})
	require.NoError(t, err)
	assert.Equal(t, int64(100_000), l.CPUPeriod)
	assert.InDelta(t, 0.2*float64(cpus())*100_000, float64(l.CPUQuota), 1)
	assert.Equal(t, int64(2147483648), l.Memory)
	assert.Equal(t, int64(1024), l.Pids)

	l, err = cgroups.ParseLimits(container.Config{CPUs: "0.5", Memory: "48m", Pids: "16"})
	require.NoError(t, err)
	assert.Equal(t, cgroups.Limits{CPUQuota: 50_000, CPUPeriod: 100_000, Memory: 48 << 20, Pids: 16}, l)
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{
		48 << 20: "48 MiB", 2 << 30: "2 GiB", 1536 << 20: "1536 MiB", 4096: "4 KiB", 1000: "1000 bytes",
	} {
		assert.Equal(t, want, cgroups.FormatSize(n))
	}
}
