package publish

import (
	"fmt"
	"strings"

	veth "scratchcontainer/chapters/06-veth"
	"scratchcontainer/runtime/container"
)

// With -net pasta (chapter 06's pasta.go, the network of a run without
// root) a published port is no iptables rule: pasta itself listens on the
// host's port, as the user's own process, and connects each connection to
// the container's port from inside. ReservePorts checks and records the
// ports as for a veth pair, and hands them to pasta as its -t and -u
// options; Publish and Unpublish have nothing to do.

// pastaOptions are ports as pasta's options: -t for TCP, -u for UDP, each
// [ADDRESS/]HOSTPORT:CONTAINERPORT (pasta(1), --tcp-ports).
func pastaOptions(ports []Port) string {
	var options []string
	for _, p := range ports {
		spec := fmt.Sprintf("%d:%d", p.Host, p.Container)
		if p.HostIP != "" {
			spec = p.HostIP + "/" + spec
		}
		options = append(options, "-"+p.Proto[:1], spec)
	}
	return strings.Join(options, " ")
}

// publish is the chapter's Attach: Publish's rules, or nothing with pasta.
func publish(c *container.Container) error {
	if c.Config.Net == veth.Pasta {
		return nil
	}
	return Publish(c)
}

// unpublish is the chapter's Release: Unpublish, or nothing with pasta,
// which took its sockets with it (chapter 06 stops it).
func unpublish(c *container.Container) error {
	if c.Config.Net == veth.Pasta {
		return nil
	}
	return Unpublish(c)
}
