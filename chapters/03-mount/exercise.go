//go:build workshop || workshop03

// Exercise for chapter 03: read README.md, write the TODOs, and run
// `make chapter N=03` until it passes. (mount.go is the reference answer;
// chapter.go plugs your code into the runtime.)

package mount

import (
	"errors"

	"scratchcontainer/runtime/container"
)

// cloneFlags are the namespaces clone(2) gives the child.
// TODO: a new mount namespace (unix.CLONE_NEWNS).
const cloneFlags = 0

// CheckRootfs runs on the host, before clone.
func CheckRootfs(c *container.Container) error {
	// TODO: c.Config.Rootfs must exist and be a directory: otherwise return
	// an error naming it ("rootfs /x: no such file or directory", "rootfs /x
	// is not a directory"), with the fix (make rootfs builds one);
	// container.UnwrapPath keeps the path from being said twice.
	// TODO: create the mount points proc, dev and sys in it if missing.
	return nil
}

// PivotRoot runs inside the child, in its new mount namespace: make the
// rootfs its /, and leave nothing of the host reachable.
func PivotRoot(c *container.Container) error {
	// TODO, steps 2 to 5 of README.md, "The steps" (step 1 is cloneFlags):
	//  2. make / recursively private: mount("", "/", "", MS_PRIVATE|MS_REC, "")
	//  3. bind-mount the rootfs onto itself (MS_BIND|MS_REC)
	//  4. mkdir rootfs/.oldroot-<c.ID>; pivot_root(rootfs, that directory)
	//  5. chdir("/"); unmount /.oldroot-<c.ID> with MNT_DETACH; remove the directory
	//     (but in a user namespace, when c.Resources["uid_map"] is set, chapter 04
	//     still needs the host's /proc, /sys and /dev: set c.Resources["oldroot"]
	//     to "/.oldroot-<c.ID>" and return instead; chapter 04 detaches it)
	return errors.New("chapter 03 exercise: PivotRoot is not written yet (chapters/03-mount/exercise.go)")
}
