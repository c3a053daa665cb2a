package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"scratchcontainer/runtime/container"
)

// inspect prints a running container as the host sees it, one section per
// chapter: `inspect [--format text|json] <id>` (the flag may also follow the ID).
func inspect(out io.Writer, args []string, course []container.Chapter) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "text", "text or json")
	err := fs.Parse(args)
	id := fs.Arg(0)
	if err == nil && fs.NArg() > 1 {
		err = fs.Parse(fs.Args()[1:])
		if err == nil && fs.NArg() > 0 {
			err = fmt.Errorf("unexpected %q after the ID", fs.Arg(0))
		}
	}
	switch {
	case err != nil:
		return usageError("inspect: %v: write scratchcontainer inspect [--format json] <id>", err)
	case id == "":
		return usageError("inspect: give a container ID (scratchcontainer ps lists them)")
	case *format != "text" && *format != "json":
		return usageError("inspect: --format %s: use text or json", *format)
	}
	sections, err := container.Inspect(id, course)
	if err != nil {
		return err
	}
	if *format == "json" {
		b, err := json.MarshalIndent(sections, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	}
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	for _, s := range sections {
		fmt.Fprintf(w, "%s\n", s.Chapter)
		for _, f := range s.Facts {
			value := f.Value
			if f.Host != "" {
				value += "   (host: " + f.Host + ")"
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\n", f.Name, value, f.Source)
		}
	}
	return w.Flush()
}
