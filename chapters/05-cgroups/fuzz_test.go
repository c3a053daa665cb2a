package cgroups_test

import (
	"strconv"
	"testing"

	"scratchcontainer/chapters/05-cgroups"
)

// go test -fuzz FuzzParseSize ./chapters/05-cgroups/
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "48m", "2g", "512K", "1b", "", "-1", "+5", "9223372036854775807", "8589934592g", "1.5g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := cgroups.ParseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d, negative", s, n)
		}
		if plain, perr := strconv.ParseInt(s, 10, 64); perr == nil && plain != n {
			t.Fatalf("ParseSize(%q) = %d, want the plain number %d", s, n, plain)
		}
	})
}

// go test -fuzz FuzzParseCPUs ./chapters/05-cgroups/
func FuzzParseCPUs(f *testing.F) {
	for _, s := range []string{"0.5", "1", "0", "-1", "NaN", "Inf", "0.001", "2", "1e308", "0x1p-2"} {
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, s string, host int) {
		if host < 1 || host > 4096 {
			return
		}
		quota, err := cgroups.ParseCPUs(s, host)
		if err != nil {
			return
		}
		if quota < cgroups.MinCPUQuota || quota > int64(host)*cgroups.CPUPeriod {
			t.Fatalf("ParseCPUs(%q, %d) = %d µs, outside [%d, %d]", s, host, quota, cgroups.MinCPUQuota, int64(host)*cgroups.CPUPeriod)
		}
	})
}
