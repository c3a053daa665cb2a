// Package host answers questions about the machine the runtime runs on:
// which cgroup layout it has, which namespaces its kernel offers. The CLI's
// `check` and the test harness's conditions ask it; the cgroups chapter
// teaches how the answer is found.
package host

import (
	"os"

	"golang.org/x/sys/unix"
)

// CgroupMode is how the host mounts its cgroups.
type CgroupMode string

const (
	CgroupV1     CgroupMode = "v1"     // a hierarchy per controller under /sys/fs/cgroup
	CgroupHybrid CgroupMode = "hybrid" // v1 controllers, plus an empty v2 tree at /sys/fs/cgroup/unified
	CgroupV2     CgroupMode = "v2"     // one unified hierarchy at /sys/fs/cgroup
	CgroupNone   CgroupMode = "none"
)

// DetectCgroupMode tells the layout apart by the file system types that
// statfs(2) reports: cgroup2 at /sys/fs/cgroup is v2; a tmpfs there holding
// v1 hierarchies is v1, or hybrid when /sys/fs/cgroup/unified is cgroup2.
func DetectCgroupMode() CgroupMode {
	if fsType("/sys/fs/cgroup") == unix.CGROUP2_SUPER_MAGIC {
		return CgroupV2
	}
	if fsType("/sys/fs/cgroup/unified") == unix.CGROUP2_SUPER_MAGIC {
		return CgroupHybrid
	}
	if fsType("/sys/fs/cgroup/memory") == unix.CGROUP_SUPER_MAGIC {
		return CgroupV1
	}
	return CgroupNone
}

func fsType(path string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0
	}
	return int64(st.Type)
}

// MissingNamespaces lists the namespace types the chapters use that this
// kernel lacks, by their names under /proc/<pid>/ns/.
func MissingNamespaces() []string {
	var missing []string
	for _, ns := range []string{"uts", "pid", "mnt", "net", "ipc", "cgroup"} {
		if _, err := os.Stat("/proc/self/ns/" + ns); err != nil {
			missing = append(missing, ns)
		}
	}
	return missing
}
