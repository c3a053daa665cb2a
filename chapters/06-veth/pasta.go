package veth

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// -net pasta: a network for a container run without root.
//
// A veth pair needs root: its host end, the host's address on it and the
// NAT rules are the host's to change. pasta(1), from Debian's passt
// package, is a network made in user space instead, the way podman runs
// rootless containers: it joins the container's user and network
// namespaces (by the PID of its PID 1), makes a tap interface there,
// eth0, with the host's own address and routes, and carries every
// connection the container opens through an ordinary socket of its own on
// the host, as any program of the user would. A published port is a
// socket pasta listens on, on the host, and connects inside the
// container. No iptables, no forwarding: nothing the user may not do.
//
//	host                                     container (own user + net ns)
//	  pasta (the user's process)  ══ tap ══  eth0 192.0.2.2/24 (the host's)
//	    socket(2) per connection               default via the host's gateway
//	    listens on -p's host ports  ─────────▶ connect(2) to the container's port
//
// The runtime starts it in Attach, once the child exists and before it is
// released, and waits: pasta configures eth0 and binds the published
// ports, then goes to the background (its PID in pasta.pid of the state
// directory) and exits, so the container's command never runs before its
// network does. Release stops it, and gc likewise: pasta outlives the
// container's processes.
//
// Options, each a choice of ours (pasta(1) has the rest):
//
//	--config-net        pasta configures eth0, its address and routes itself
//	--no-map-gw         the gateway address is the real gateway, not the host:
//	                    traffic to it does not reach the host's own services
//	-T none -U none     no port of the host's loopback appears on the
//	                    container's: the container's lo is its own
//	-t, -u SPEC         only the ports -publish gives (chapter 07), else none:
//	                    pasta's default, auto, would publish every port the
//	                    container listens on
//	-q -P FILE          errors only; its PID into FILE
const (
	Pasta      = "pasta"        // -net pasta, and the program
	pastaPID   = "pasta.pid"    // in the state directory
	PastaPorts = "pasta-ports"  // recorded by chapter 07: -t and -u options
	tunDevice  = "/dev/net/tun" // pasta makes eth0 through it
)

// preparePasta runs on the host before the clone, for -net pasta: it
// refuses, with the fix, a host where pasta cannot work.
func preparePasta(c *container.Container) error {
	if _, err := exec.LookPath(Pasta); err != nil {
		return container.Errorf(container.StatusRuntimeFailed, "-net pasta: the program pasta is not installed (apt-get install passt), or use -net none")
	}
	// Debian's udev makes it 0666; a host that keeps it root's (0600)
	// gives the user no tap device.
	if err := unix.Access(tunDevice, unix.R_OK|unix.W_OK); err != nil {
		return container.Errorf(container.StatusRuntimeFailed, "-net pasta: %s: %v: pasta makes the container's eth0 through it (as root: chmod 0666 %s, as Debian's udev has it), or use -net none", tunDevice, err, tunDevice)
	}
	return nil
}

// StartPasta runs on the host once the child exists, before it is
// released: pasta joins the namespaces of the child's PID, configures its
// eth0 and listens on the published ports, then detaches; its PID is
// recorded for Release.
func StartPasta(c *container.Container) error {
	pidFile := filepath.Join(c.StateDir(), pastaPID)
	args := []string{"--config-net", "--no-map-gw", "-T", "none", "-U", "none", "-q", "-P", pidFile}
	ports := strings.Fields(c.Resources[PastaPorts])
	for _, option := range []string{"-t", "-u"} {
		if !slices.Contains(ports, option) {
			args = append(args, option, "none")
		}
	}
	args = append(append(args, ports...), strconv.Itoa(c.Pid))
	c.Trace("execve(%q): configures eth0 in the netns of PID %d, binds the ports, detaches", append([]string{Pasta}, args...), c.Pid)
	out, err := exec.Command(Pasta, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("start pasta for the container's network: %w: %s", err, pastaError(out))
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return fmt.Errorf("pasta started, but left no PID: %w", err)
	}
	return c.Record("pasta", strings.TrimSpace(string(b)))
}

// pastaError is pasta's own message: without a system logger it also
// says, line by line, that it could not send to one.
func pastaError(out []byte) string {
	var lines []string
	for _, line := range strings.Split(string(out), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "Failed to send") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "; ")
}

// StopPasta runs on the host after exit, and from gc: SIGTERM to the
// recorded pasta, then wait until it is gone. pasta stays after the
// container's last process (its tap keeps the namespace), so Release must
// stop it. A PID is reused once its process is gone: it is signalled only
// while its command line still names this container's pid file.
func StopPasta(c *container.Container) error {
	pid, err := strconv.Atoi(c.Resources["pasta"])
	if err != nil {
		return nil // never started
	}
	pidFile := filepath.Join(c.StateDir(), pastaPID)
	for try := 0; try < 200; try++ {
		// Empty once it has exited, even before its parent reaps it.
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !slices.Contains(strings.Split(string(cmdline), "\x00"), pidFile) {
			return nil
		}
		if try == 0 || try == 100 { // at once, then a second later
			signal := map[bool]unix.Signal{false: unix.SIGTERM, true: unix.SIGKILL}[try == 100]
			c.Trace("kill(%d, %d): pasta", pid, int(signal))
			if err := unix.Kill(pid, signal); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("stop pasta (PID %d): %w", pid, err)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("stop pasta (PID %d): still running after SIGKILL", pid)
}

// attach is the chapter's Attach: Connect's veth pair, or pasta.
func attach(c *container.Container) error {
	if c.Config.Net == Pasta {
		return StartPasta(c)
	}
	return Connect(c)
}

// release is the chapter's Release: pasta stopped, or Disconnect.
func release(c *container.Container) error {
	if c.Config.Net == Pasta {
		return StopPasta(c)
	}
	return Disconnect(c)
}
