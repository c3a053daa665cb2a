package images

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"golang.org/x/sys/unix"

	"scratchcontainer/runtime/container"
)

// Commands are the subcommands of the image store: pull, import, images and
// rmi, each with the flag -store DIR.
func Commands() map[string]func(args []string) (int, error) {
	return map[string]func(args []string) (int, error){
		"pull": func(args []string) (int, error) {
			s, rest, err := storeFlag("pull REF", args, 1, 1)
			if err != nil {
				return 0, err
			}
			return 0, Pull(s, rest[0], progress())
		},
		"import": func(args []string) (int, error) {
			s, rest, err := storeFlag("import FILE.tar [NAME]", args, 1, 2)
			if err != nil {
				return 0, err
			}
			ref := ""
			if len(rest) == 2 {
				ref = rest[1]
			}
			return 0, Import(s, rest[0], ref, progress())
		},
		"images": func(args []string) (int, error) {
			s, _, err := storeFlag("images", args, 0, 0)
			if err != nil {
				return 0, err
			}
			return 0, list(os.Stdout, s)
		},
		"rmi": func(args []string) (int, error) {
			s, rest, err := storeFlag("rmi REF", args, 1, 1)
			if err != nil {
				return 0, err
			}
			return 0, s.Remove(rest[0], inUse)
		},
	}
}

// storeFlag reads -store DIR and between least and most arguments.
func storeFlag(usage string, args []string, least, most int) (Store, []string, error) {
	fs := flag.NewFlagSet(usage, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("store", DefaultStore, "the image store `DIR`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			err = fmt.Errorf("usage: scratchcontainer %s [-store DIR]", usage)
		}
		return Store{}, nil, container.Errorf(container.StatusRuntimeFailed, "%v", err)
	}
	if fs.NArg() < least || fs.NArg() > most {
		return Store{}, nil, container.Errorf(container.StatusRuntimeFailed, "usage: scratchcontainer %s (flags first: -store DIR)", usage)
	}
	return Store{Dir: *dir}, fs.Args(), nil
}

// progress is where a pull tells of each layer: stderr if it is a terminal,
// nowhere otherwise (a script's log wants the result, not the way there).
func progress() io.Writer {
	if _, err := unix.IoctlGetTermios(int(os.Stderr.Fd()), unix.TCGETS); err != nil {
		return nil
	}
	return os.Stderr
}

// list prints the store's images.
func list(out io.Writer, s Store) error {
	all, err := s.Images()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "REFERENCE\tMANIFEST\tLAYERS\tSIZE")
	for _, img := range all {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", img.Ref, img.Manifest.Digest.Hex[:12], len(img.Layers), size(img.Size))
	}
	return w.Flush()
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// inUse reports whether a running container was made from the image whose
// manifest has digest manifest: its layers are its overlay's lower layers.
func inUse(manifest string) bool {
	all, _ := container.List()
	for _, c := range all {
		if c.Resources["image"] == manifest && !c.Orphaned() {
			return true
		}
	}
	return false
}
