package images

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Unpack writes the layer tar r into dir, the layer's own directory, and
// turns its whiteouts into overlayfs's (see Whiteout).
//
// A layer comes from anyone, and its tar may hold absolute names, "..",
// or a symbolic link to /etc followed by an entry "link/passwd". Extracted
// naively, as root, any of these writes over the host. Here every name is
// resolved by the kernel as if dir were /: openat2(2) with RESOLVE_IN_ROOT
// opens the parent directory of each entry, a link met on the way is
// followed inside dir, ".." stops at dir, and the entry is then made with
// the *at(2) calls relative to that parent, never following a link at its
// last name. Nothing lands outside dir.
func Unpack(r io.Reader, dir string) error {
	root, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the layer's tar: %w", err)
		}
		name := path.Clean("/" + hdr.Name) // absolute and ".." end at dir's /
		if name == "/" {
			continue // the layer's root: dir itself
		}
		if err := unpackEntry(root, name, hdr, tr); err != nil {
			return fmt.Errorf("layer entry %s: %w", hdr.Name, err)
		}
	}
}

// unpackEntry makes one tar entry, name being absolute within root.
func unpackEntry(root *os.File, name string, hdr *tar.Header, content io.Reader) error {
	parentName, base := path.Split(name)
	parent, err := openInRoot(root, parentName, unix.O_PATH|unix.O_DIRECTORY)
	if errors.Is(err, unix.ENOENT) {
		// A parent the tar did not list first: make it, as tar does.
		if err := mkdirAllInRoot(root, parentName); err != nil {
			return err
		}
		parent, err = openInRoot(root, parentName, unix.O_PATH|unix.O_DIRECTORY)
	}
	if err != nil {
		return fmt.Errorf("open its directory %s: %w", parentName, err)
	}
	defer unix.Close(parent)
	parentPath := fmt.Sprintf("/proc/self/fd/%d", parent) // that directory, wherever it is

	if done, err := Whiteout(parentPath, base); done {
		return err
	}
	// An entry replaces what an earlier one of this layer put there,
	// except a directory over a directory, which keeps its contents.
	var st unix.Stat_t
	if unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
		if hdr.Typeflag != tar.TypeDir || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err := os.RemoveAll(parentPath + "/" + base); err != nil {
				return err
			}
		}
	}
	mode := uint32(hdr.Mode) & 0o7777
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := unix.Mkdirat(parent, base, mode); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("mkdirat: %w", err)
		}
	case tar.TypeReg:
		fd, err := unix.Openat(parent, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
		if err != nil {
			return fmt.Errorf("openat: %w", err)
		}
		f := os.NewFile(uintptr(fd), name)
		_, err = io.Copy(f, content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
	case tar.TypeSymlink:
		// Stored as written: inside the container, /etc is its own.
		if err := unix.Symlinkat(hdr.Linkname, parent, base); err != nil {
			return fmt.Errorf("symlinkat: %w", err)
		}
	case tar.TypeLink:
		// The target is resolved inside root too: a hard link to
		// ../../etc/shadow links to root's own etc/shadow, if any.
		target, err := openInRoot(root, path.Clean("/"+hdr.Linkname), unix.O_PATH|unix.O_NOFOLLOW)
		if err != nil {
			return fmt.Errorf("hard link to %s: %w", hdr.Linkname, err)
		}
		defer unix.Close(target)
		if err := unix.Linkat(target, "", parent, base, unix.AT_EMPTY_PATH); err != nil {
			return fmt.Errorf("linkat to %s: %w", hdr.Linkname, err)
		}
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		if err := unix.Mknodat(parent, base, kind|mode, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))); err != nil {
			return fmt.Errorf("mknodat: %w", err)
		}
	default:
		return nil // PAX headers and the like carry no file
	}
	if err := unix.Fchownat(parent, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("fchownat: %w", err)
	}
	if hdr.Typeflag != tar.TypeSymlink && hdr.Typeflag != tar.TypeLink {
		// After chown, which clears set-user-ID bits.
		if err := unix.Fchmodat(parent, base, mode, 0); err != nil {
			return fmt.Errorf("fchmodat: %w", err)
		}
	}
	return nil
}

// openInRoot opens name, absolute within root, as if root were /.
func openInRoot(root *os.File, name string, flags int) (int, error) {
	rel := strings.Trim(name, "/")
	if rel == "" {
		rel = "."
	}
	return unix.Openat2(int(root.Fd()), rel, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// mkdirAllInRoot makes directory name and its parents, within root.
func mkdirAllInRoot(root *os.File, name string) error {
	dir := "/"
	for _, part := range strings.Split(strings.Trim(name, "/"), "/") {
		parent, err := openInRoot(root, dir, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return fmt.Errorf("open %s: %w", dir, err)
		}
		err = unix.Mkdirat(parent, part, 0o755)
		unix.Close(parent)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("mkdirat %s%s: %w", dir, part, err)
		}
		dir = path.Join(dir, part) + "/"
	}
	return nil
}
