package veth

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// The files a program reads to learn its own name and address and where
// to ask for other names (resolv.conf(5), hosts(5), hostname(5)). Each
// container gets its own, written by the host into its state directory and
// bind-mounted over the rootfs's: two containers sharing a rootfs each see
// their own, and the rootfs itself is never written.
//
// They are this chapter's, not chapter 01's (hostname) or 03's (the
// filesystem): /etc/hosts names the address this chapter gives, and a
// resolver is only reachable over this chapter's network. /etc/hostname
// comes along because /etc/hosts must agree with it, and chapter 01 has no
// filesystem of its own yet to put a file in.
const (
	resolvConf   = "resolv.conf"
	hostsFile    = "hosts"
	hostnameFile = "hostname"
)

// Host files the resolver configuration comes from. systemd-resolved puts
// a stub on 127.0.0.53 in the first, a loopback address that in the
// container is the container's own lo, and lists the servers it forwards
// to in the second.
const (
	hostResolvConf     = "/etc/resolv.conf"
	upstreamResolvConf = "/run/systemd/resolve/resolv.conf"
)

// Prepare runs on the host before the clone: it reserves the container's
// address, then writes its name files into the state directory.
func Prepare(c *container.Container) error {
	if c.Rootless && c.Config.Net == "" {
		// No -net: what a run as root would get (veth) needs root, so
		// the container gets only lo, and the user is told why.
		c.Config.Net = "none"
		c.Note("the container's network is -net none (only lo): without root, a veth pair and NAT cannot be made (-net pasta is a network without root)")
	}
	if c.Rootless && c.Config.Net == "veth" {
		// The host's end of the pair, its address and the NAT rules are
		// the host's, which only root may change.
		return container.Errorf(container.StatusRuntimeFailed, "-net veth needs root: the host's end of the veth pair and its NAT rules are the host's to change: use -net pasta (a network without root) or -net none (only lo), or run as root (sudo)")
	}
	if c.Config.Net == Pasta {
		if err := preparePasta(c); err != nil {
			return err
		}
	}
	if err := ReserveAddress(c); err != nil {
		return err
	}
	if !ownsNames(c) {
		return nil
	}
	return WriteNames(c)
}

// ownsNames reports whether the chapter gives the container its name
// files. An OCI bundle (chapter 11's `create`) brings its own as mounts in
// config.json, as podman does, and runc writes none: ours would cover them.
func ownsNames(c *container.Container) bool { return !c.Config.Created() }

// WriteNames writes /etc/hosts, /etc/hostname and, unless -net none,
// /etc/resolv.conf for the container into its state directory.
func WriteNames(c *container.Container) error {
	if c.Config.Net == "none" && len(c.Config.DNS) > 0 {
		return container.Errorf(container.StatusRuntimeFailed, "-dns %s: -net none has no network to reach a nameserver: drop -dns or -net none", c.Config.DNS[0])
	}
	files := map[string]string{
		hostnameFile: c.Hostname() + "\n",
		hostsFile:    Hosts(c.Hostname(), c.Resources["address"]),
	}
	if c.Config.Net != "none" {
		var host, upstream []byte
		if len(c.Config.DNS) == 0 {
			c.Trace("read %s, and %s if it names a loopback resolver", hostResolvConf, upstreamResolvConf)
			host, _ = os.ReadFile(hostResolvConf)
			upstream, _ = os.ReadFile(upstreamResolvConf)
		}
		conf, err := ResolvConf(host, upstream, c.Config.DNS)
		if err != nil {
			return err
		}
		files[resolvConf] = conf
	}
	for _, name := range []string{hostnameFile, hostsFile, resolvConf} {
		if content, ok := files[name]; ok {
			if err := c.WriteHostFile(name, content); err != nil {
				return fmt.Errorf("the container's /etc/%s: %w", name, err)
			}
		}
	}
	return nil
}

// Hosts is the container's /etc/hosts: localhost, and its own name on its
// address (address as 172.22.N.2/24; empty for -net none, where the name
// goes on 127.0.1.1, as Debian does for a host without a fixed address).
func Hosts(name, address string) string {
	ip, _, _ := strings.Cut(address, "/")
	if ip == "" {
		ip = "127.0.1.1"
	}
	return "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		ip + "\t" + name + "\n"
}

// ResolvConf is the container's /etc/resolv.conf: the -dns servers if any
// were given, else the host's nameservers with its search and options
// lines. A loopback nameserver (systemd-resolved's 127.0.0.53) would be
// the container's own lo: the upstream file's servers replace it, and
// without them the run is refused. A host with no nameserver at all gives
// the container none either (a comment says why). IPv6 servers are left out: the
// container has IPv4 only.
func ResolvConf(host, upstream []byte, dns []string) (string, error) {
	if len(dns) > 0 {
		var b strings.Builder
		for _, s := range dns {
			if ip := net.ParseIP(s); ip == nil || ip.To4() == nil {
				return "", container.Errorf(container.StatusRuntimeFailed, "-dns %s: not an IPv4 address: give a nameserver's address, e.g. -dns 192.0.2.53", s)
			}
			fmt.Fprintf(&b, "nameserver %s\n", s)
		}
		return b.String(), nil
	}
	servers, rest := parseResolvConf(host)
	if len(servers) == 0 {
		// A host that resolves no names (offline, or no resolv.conf at
		// all): nor does the container, as on the host; say so where a
		// learner who looks will read it.
		return fmt.Sprintf("# %s names no IPv4 nameserver: the container resolves no names; give one with -dns IP\n", hostResolvConf), nil
	}
	for _, s := range servers {
		if net.ParseIP(s).IsLoopback() {
			servers, rest = parseResolvConf(upstream)
			if len(servers) == 0 {
				return "", container.Errorf(container.StatusRuntimeFailed, "%s names %s, a resolver on the host's loopback that the container cannot reach, and %s lists no other: give one with -dns IP", hostResolvConf, s, upstreamResolvConf)
			}
			break
		}
	}
	var b strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	for _, line := range rest {
		b.WriteString(line + "\n")
	}
	return b.String(), nil
}

// parseResolvConf returns the IPv4 nameservers of a resolv.conf, and its
// search and options lines.
func parseResolvConf(b []byte) (servers, rest []string) {
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) < 2:
		case fields[0] == "nameserver":
			if ip := net.ParseIP(fields[1]); ip != nil && ip.To4() != nil {
				servers = append(servers, fields[1])
			}
		case fields[0] == "search" || fields[0] == "options":
			rest = append(rest, strings.Join(fields, " "))
		}
	}
	return servers, rest
}

// BindNames runs in the child, after pivot_root: it mounts each name file
// the host wrote over the one in /etc, read-only (the child cloned them
// before pivot_root: see container.WriteHostFile). Done after pivot_root, a symlink in the rootfs
// (/etc/resolv.conf -> ../run/...) resolves inside the container, never
// to a host file. A rootfs without the file gets an empty one as the
// mount point, once, as chapter 03 does for /proc; build/rootfs ships them.
// Read-only: the container's writes would land in the host's /run, a
// tmpfs other programs need room in (Docker lets them; we do not).
func BindNames(c *container.Container) error {
	names := []string{hostnameFile, hostsFile}
	if c.Config.Net != "none" {
		names = append(names, resolvConf)
	}
	for _, name := range names {
		target := "/etc/" + name
		if err := mountPoint(c, target); err != nil {
			return err
		}
		fd, err := c.HostFile(name)
		if err != nil {
			return err
		}
		c.Trace(`move_mount(%d, "", AT_FDCWD, %q, MOVE_MOUNT_F_EMPTY_PATH), then MS_REMOUNT|MS_BIND|MS_RDONLY`, fd, target)
		if err := unix.MoveMount(fd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("bind-mount the container's %s over the rootfs's: move_mount: %w", target, err)
		}
		const ro = unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
		if err := unix.Mount("", target, "", ro, ""); err != nil {
			return fmt.Errorf("make the container's %s read-only: %w", target, err)
		}
	}
	return nil
}

// enter is the chapter's Enter: a network namespace the caller gave by
// path first (EnterNetNS, chapter 11's bundles), the network inside
// (ConfigureInside, the exercise), then the name files.
func enter(c *container.Container) error {
	if err := EnterNetNS(c); err != nil {
		return err
	}
	if err := ConfigureInside(c); err != nil {
		return err
	}
	if !ownsNames(c) {
		return nil
	}
	return BindNames(c)
}

// mountPoint makes an empty file at path if nothing is there.
func mountPoint(c *container.Container, path string) error {
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		return nil // there (a file, or a link mount resolves in the rootfs)
	}
	c.Trace("mkdir -p /etc, open(%q, O_CREAT|O_EXCL|O_NOFOLLOW): the rootfs lacks the mount point", path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s in the rootfs as a mount point: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|os.O_WRONLY, 0o644)
	if err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s in the rootfs as a mount point: %w", path, err)
	}
	if f != nil {
		f.Close()
	}
	return nil
}
