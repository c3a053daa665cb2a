package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"scratchcontainer/runtime/container"
)

// config.json's hooks are programs the caller asks the runtime to run at
// named moments of the container's life, each with the container's state
// (the JSON `state` prints) on its stdin: podman's OCI hooks, a network
// plugin wiring the namespace, a GPU toolkit. The spec (config.md, "POSIX
// platform hooks") says when and where each runs; here:
//
//	prestart, createRuntime   create, on the host (Attach), once the child is in its
//	                          namespaces and cgroup and before its pivot_root; status creating
//	createContainer           refused (see refuse)
//	startContainer            start, in the child, after the gate, before execve (Starting):
//	                          its path is the container's; status created
//	poststart                 start, on the host, once the child is let go (Started); running
//	poststop                  delete, on the host, once everything is released (Deleted); stopped
//
// A failing prestart, createRuntime or startContainer hook fails the
// container (create fails, and the container goes with everything it had;
// the child exits instead of exec'ing); a failing poststart or poststop
// hook is a warning, as the spec says.

// Hook moments, as config.json names them.
const (
	prestart       = "prestart"
	createRuntime  = "createRuntime"
	startContainer = "startContainer"
	poststart      = "poststart"
	poststop       = "poststop"
)

// CreateHooks runs the prestart hooks (deprecated by the spec, but podman
// and runtime-tools still use them), then the createRuntime hooks.
func CreateHooks(c *container.Container) error {
	if err := runHooks(c, prestart, container.StatusCreating); err != nil {
		return err
	}
	return runHooks(c, createRuntime, container.StatusCreating)
}

// StartHooks runs the startContainer hooks, in the container, then sets
// the resource limits, the last step before the execve (SetRlimits).
func StartHooks(c *container.Container) error {
	if err := runHooks(c, startContainer, container.StatusCreated); err != nil {
		return err
	}
	return SetRlimits(c)
}

// PoststartHooks runs the poststart hooks.
func PoststartHooks(c *container.Container) error {
	return runHooks(c, poststart, container.StatusRunning)
}

// PoststopHooks runs the poststop hooks: every one, whichever fails.
func PoststopHooks(c *container.Container) error {
	var errs []error
	for i, h := range c.Config.Hooks[poststop] {
		if err := runHook(c, h, container.StatusStopped); err != nil {
			errs = append(errs, fmt.Errorf("hooks.%s[%d] %s: %w", poststop, i, h.Path, err))
		}
	}
	return errors.Join(errs...)
}

// runHooks runs the hooks of one moment in their order; the first to fail
// stops the rest.
func runHooks(c *container.Container, moment, status string) error {
	for i, h := range c.Config.Hooks[moment] {
		if err := runHook(c, h, status); err != nil {
			return fmt.Errorf("hooks.%s[%d] %s: %w", moment, i, h.Path, err)
		}
	}
	return nil
}

// runHook forks and execs one hook with the state on its stdin and only
// its own environment, and waits for it, killing it (SIGKILL) once its
// timeout has passed. Its output is kept for the error, as runc does.
func runHook(c *container.Container, h container.Hook, status string) error {
	state, err := json.Marshal(c.OCIState(status))
	if err != nil {
		return err
	}
	args := h.Args
	if len(args) == 0 {
		args = []string{h.Path}
	}
	ctx := context.Background()
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(h.Timeout)*time.Second)
		defer cancel()
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, h.Path)
	cmd.Args = args
	cmd.Env = append([]string{}, h.Env...) // never the runtime's (a nil Env would be)
	cmd.Stdin = bytes.NewReader(state)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second // a hook that leaves a process holding its stdout
	c.Trace("fork, execve(%q, %q), stdin: the state, %s", h.Path, args, status)
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("killed after its timeout of %ds", h.Timeout)
	case err != nil && out.Len() > 0:
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(out.String()))
	}
	return err
}
