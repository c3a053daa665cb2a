package images

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// A Volume is one -v HOST:CONTAINER[:ro]: a host directory (or file) bound
// into the container.
type Volume struct {
	Host      string // absolute path on the host
	Container string // absolute path inside the container
	ReadOnly  bool
}

func (v Volume) String() string {
	s := v.Host + ":" + v.Container
	if v.ReadOnly {
		s += ":ro"
	}
	return s
}

// ParseVolumes reads the -v specs. A host path that does not exist, or a
// container path that is not absolute, is refused before anything is made.
func ParseVolumes(specs []string) ([]Volume, error) {
	var volumes []Volume
	for _, spec := range specs {
		parts := strings.Split(spec, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("-v %s: write HOST:CONTAINER or HOST:CONTAINER:ro, e.g. -v /tmp/data:/data", spec)
		}
		v := Volume{Container: filepath.Clean(parts[1])}
		if len(parts) == 3 {
			switch parts[2] {
			case "ro":
				v.ReadOnly = true
			case "rw":
			default:
				return nil, fmt.Errorf("-v %s: unknown option %q: use ro (or rw, the default)", spec, parts[2])
			}
		}
		host, err := filepath.Abs(parts[0])
		if err != nil {
			return nil, fmt.Errorf("-v %s: %w", spec, err)
		}
		v.Host = host
		if _, err := os.Stat(host); err != nil {
			return nil, fmt.Errorf("-v %s: host path %s: %w (create it first: mkdir -p %s)", spec, host, container.UnwrapPath(err), host)
		}
		if !filepath.IsAbs(parts[1]) {
			return nil, fmt.Errorf("-v %s: the container path %s must be absolute, e.g. /%s", spec, parts[1], parts[1])
		}
		if v.Container == "/" {
			return nil, fmt.Errorf("-v %s: a volume cannot be the container's /: give a directory under it, e.g. /data", spec)
		}
		volumes = append(volumes, v)
	}
	return volumes, nil
}

// BindVolume bind-mounts v.Host on v.Container under merged, the container's
// root as the host sees it, read-only for :ro.
func BindVolume(c *container.Container, merged string, v Volume) error {
	target, err := mountPoint(merged, v)
	if err != nil {
		return err
	}
	c.Trace(`mount(%q, %q, "", MS_BIND, "")`, v.Host, target)
	if err := unix.Mount(v.Host, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("-v %s: bind-mount %s on %s: %w", v, v.Host, target, err)
	}
	if v.ReadOnly {
		// A bind mount takes no options of its own: MS_RDONLY comes with
		// a remount of the bind. Inside, only CAP_SYS_ADMIN could remount
		// it rw, and chapter 08 keeps that from the container.
		c.Trace(`mount("", %q, "", MS_BIND|MS_REMOUNT|MS_RDONLY, "")`, target)
		if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("-v %s: make %s read-only: %w", v, target, err)
		}
	}
	return nil
}

// mountPoint makes the mount point of v under merged, and returns its path
// on the host. It walks the container path one name at a time and refuses a
// symbolic link: resolved here, on the host, a link to /etc in the image
// would bind the volume over the host's own /etc.
func mountPoint(merged string, v Volume) (string, error) {
	path := merged
	names := strings.Split(strings.TrimPrefix(v.Container, "/"), "/")
	for i, name := range names {
		path = filepath.Join(path, name)
		fi, err := os.Lstat(path)
		switch {
		case err == nil && fi.Mode()&os.ModeSymlink != 0:
			return "", fmt.Errorf("-v %s: %s is a symbolic link in the image: give the path it points to", v, "/"+filepath.Join(names[:i+1]...))
		case err == nil:
			continue
		case !os.IsNotExist(err):
			return "", fmt.Errorf("-v %s: %w", v, err)
		}
		if last := i == len(names)-1; last && !isDir(v.Host) {
			err = os.WriteFile(path, nil, 0o644) // a file is bound on a file
		} else {
			err = os.Mkdir(path, 0o755)
		}
		if err != nil {
			return "", fmt.Errorf("-v %s: create the mount point: %w", v, err)
		}
	}
	return path, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
