// Package rootfs builds the small root filesystems the demo and the tests
// run containers in: Debian's static busybox with a link per applet, plus
// any static helper programs the tests need.
package rootfs

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Busybox is where Debian's busybox-static package puts its binary.
const Busybox = "/bin/busybox"

// BuildBusybox makes a busybox rootfs in dir: /bin/busybox, a link for each
// applet at the path busybox gives it (/bin/sh, /sbin/ip, /usr/bin/wc, ...),
// the usual mount points, and a /www/index.html for httpd.
func BuildBusybox(dir string) error {
	if err := checkStatic(Busybox); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		return err
	}
	if err := CopyFile(Busybox, filepath.Join(dir, "bin/busybox")); err != nil {
		return err
	}
	out, err := exec.Command(Busybox, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("%s --list-full: %w", Busybox, err)
	}
	for _, applet := range strings.Fields(string(out)) {
		link := filepath.Join(dir, applet)
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return err
		}
		if err := os.Symlink("/bin/busybox", link); err != nil && !os.IsExist(err) {
			return err
		}
	}
	for _, d := range []string{"proc", "dev", "sys", "tmp", "etc", "www"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd":     "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
		"etc/group":      "root:x:0:\nnogroup:x:65534:\n",
		"www/index.html": "hello from scratchcontainer\n",
		// Empty mount points for the files chapter 06 binds over them:
		// the runtime never has to create them in the rootfs.
		"etc/hosts":       "",
		"etc/hostname":    "",
		"etc/resolv.conf": "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return os.Chmod(filepath.Join(dir, "tmp"), 0o1777)
}

// checkStatic fails with the fix when busybox is missing or dynamically
// linked: a dynamic busybox would need the host's libraries in the rootfs.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %v: install Debian's busybox-static (apt-get install busybox-static, or make deps)", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked: install busybox-static instead of busybox", path)
		}
	}
	return nil
}

// BuildHelpers compiles the Go programs under srcDir (one per directory)
// as static binaries into dir/usr/local/bin.
func BuildHelpers(srcDir, dir string) error {
	entries, err := os.ReadDir(srcDir)
	if err != nil {
		return err
	}
	bin, err := filepath.Abs(filepath.Join(dir, "usr/local/bin")) // go runs in srcDir
	if err != nil {
		return err
	}
	args := []string{"build", "-o", bin + "/"}
	for _, e := range entries {
		if e.IsDir() {
			args = append(args, "./"+e.Name())
		}
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = srcDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build helpers in %s: %v: %s", srcDir, err, stderr.String())
	}
	return nil
}

// Copy copies the tree at src to dst: directories, regular files with
// their modes, and symlinks as links.
func Copy(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, info.Mode().Perm()); err != nil {
				return err
			}
			return os.Chmod(target, info.Mode()&(fs.ModePerm|fs.ModeSticky))
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			return CopyFile(path, target)
		}
	})
}

// CopyFile copies one regular file, keeping its mode.
func CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// CopyHostBinaries copies host programs, found on the host's PATH, into the
// rootfs at dir, each with the libraries and loader `ldd` lists for it, at
// the same paths: what a dynamically linked program needs to start.
func CopyHostBinaries(dir string, names []string) error {
	for _, name := range names {
		path, err := exec.LookPath(name)
		if err != nil {
			return fmt.Errorf("%s: not found on the host's PATH", name)
		}
		if path, err = filepath.EvalSymlinks(path); err != nil {
			return err
		}
		files := []string{path}
		out, err := exec.Command("ldd", path).Output()
		if err == nil { // ldd fails for a static binary: nothing more to copy
			for _, line := range strings.Split(string(out), "\n") {
				// "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
				// "/lib64/ld-linux-x86-64.so.2 (0x...)"
				for _, field := range strings.Fields(line) {
					if strings.HasPrefix(field, "/") {
						files = append(files, field)
					}
				}
			}
		}
		for _, f := range files {
			target := filepath.Join(dir, f)
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			real, err := filepath.EvalSymlinks(f)
			if err != nil {
				return err
			}
			if err := CopyFile(real, target); err != nil {
				return fmt.Errorf("copy %s: %w", f, err)
			}
		}
	}
	return nil
}
