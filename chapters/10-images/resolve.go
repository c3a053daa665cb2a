package images

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"scratchcontainer/runtime/container"
)

// Resolve runs on the host before every chapter's Prepare. It refuses bad
// volumes before anything is made, and turns a <rootfs> argument that is not
// a directory into an image of the store: its layers become the overlay's
// lower layers, and its Cmd, Entrypoint, Env and WorkingDir fill in what the
// command line leaves out, as docker run does.
func Resolve(c *container.Container) error {
	if _, err := ParseVolumes(c.Config.Volumes); err != nil {
		return err
	}
	if c.Config.Image == "" {
		return nil // a directory: chapter 03 checks it
	}
	s := Store{Dir: StoreDir(c)}
	c.Trace("read %s/index.json: image %s", s.Dir, c.Config.Image)
	img, err := s.Lookup(c.Config.Image)
	if err != nil {
		return fmt.Errorf("run: %s is not a directory, and %w", c.Config.Image, err)
	}
	if err := c.Record("image", img.Manifest.Digest.String()); err != nil {
		return err
	}
	// The image's layers are shared and must stay as pulled: the mount
	// points chapter 03 makes (/proc, /dev, /sys) go to a layer of the
	// container's own on top of them, as Docker's "init" layer.
	dir := LayerDir(s.Dir, c.ID)
	if err := c.Record("layer", dir); err != nil {
		return err
	}
	if err := makeLayerDir(c, dir); err != nil {
		return err
	}
	init := filepath.Join(dir, "init")
	c.Trace("mkdir %s 0755", init)
	if err := os.Mkdir(init, 0o755); err != nil {
		return fmt.Errorf("create the container's init layer %s: %w", init, err)
	}
	lower := []string{init}
	for _, l := range slices.Backward(img.Layers) { // overlayfs lists the highest first
		lower = append(lower, l)
	}
	if err := c.Record("lowerdir", strings.Join(lower, ":")); err != nil {
		return err
	}
	c.Config.Rootfs = init

	cfg := img.Config
	switch {
	case len(c.Config.Args) == 0:
		c.Config.Args = append(slices.Clone(cfg.Entrypoint), cfg.Cmd...)
	case len(cfg.Entrypoint) > 0: // the command line replaces Cmd only
		c.Config.Args = append(slices.Clone(cfg.Entrypoint), c.Config.Args...)
	}
	c.Config.Env = append(slices.Clone(cfg.Env), c.Config.Env...) // -e wins: the last one does
	if c.Config.Dir == "" {
		c.Config.Dir = cfg.WorkingDir
	}
	return nil
}
