// Command bench measures scratchcontainer against runc and against the
// kernel's own floor, on the same busybox rootfs: start-to-exit latency of
// /bin/true, twenty containers at once, and TCP throughput through a
// published port. `make bench` runs it as root; results go to the terminal
// and, as JSON and an SVG chart, to build/bench/.
//
// Traffic goes only to loopback and to the container's own address.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"scratchcontainer/internal/rootfs"
	"scratchcontainer/runtime/container"
)

// Result is one measured case.
type Result struct {
	Name     string
	Unit     string // "ms" or "MB/s"
	Median   float64
	P90      float64 `json:",omitempty"`
	Runs     int
	Note     string `json:",omitempty"`
	Baseline string `json:",omitempty"` // the case Ratio compares with
	Ratio    float64
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "sink" {
		// Inside a container, as PID 1: without a handler, the SIGINT
		// that ends it would be dropped.
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
		go func() { <-stop; os.Exit(0) }()
		serveSink(os.Args[2])
		return
	}
	runs := flag.Int("runs", 30, "runs per latency case")
	sc := flag.String("scratchcontainer", "./scratchcontainer", "the runtime to measure")
	root := flag.String("rootfs", "build/rootfs", "busybox rootfs")
	out := flag.String("out", "build/bench", "where results.json and results.svg go")
	flag.Parse()
	if err := run(*runs, *sc, *root, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(runs int, sc, root, out string) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root: sudo make bench")
	}
	root, _ = filepath.Abs(root)
	sc, _ = filepath.Abs(sc)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// The sink runs inside containers: a static copy of this program.
	os.MkdirAll(filepath.Join(root, "usr/local/bin"), 0o755)
	if err := rootfs.CopyFile(self, filepath.Join(root, "usr/local/bin/scbench")); err != nil {
		return err
	}

	var results []Result
	add := func(r Result) {
		results = append(results, r)
		if r.Unit == "ms" {
			fmt.Printf("%-40s median %7.2f ms  p90 %7.2f ms  (%d runs)%s\n", r.Name, r.Median, r.P90, r.Runs, note(r.Note))
		} else {
			fmt.Printf("%-40s %9.0f MB/s%s\n", r.Name, r.Median, note(r.Note))
		}
	}

	fmt.Println("start to exit of /bin/true:")
	add(latency("scratchcontainer run -net none", runs, sc, "run", "-net", "none", root, "/bin/true"))
	add(latency("scratchcontainer run (veth)", runs, sc, "run", root, "/bin/true"))
	add(latency("scratchcontainer run -p 18990:80", runs, sc, "run", "-p", "18990:80", root, "/bin/true"))
	if r, err := runcLatency(runs, root, out); err == nil {
		add(r)
	} else {
		fmt.Println("runc:", err)
	}
	add(latency("unshare + chroot (the floor)", runs, "unshare", "--uts", "--pid", "--mount", "--net", "--ipc", "--fork", "chroot", root, "/bin/true"))
	ratio(results, "runc run")

	fmt.Println("twenty at once:")
	add(concurrent(20, sc, root))

	fmt.Println("TCP throughput (256 MiB, median of 7):")
	for _, r := range throughput(sc, root) {
		add(r)
	}
	ratio(results, "TCP to the container's address")

	b, _ := json.MarshalIndent(results, "", "  ")
	if err := os.WriteFile(filepath.Join(out, "results.json"), b, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "results.svg"), []byte(chart(results)), 0o644); err != nil {
		return err
	}
	fmt.Printf("results: %s/results.json, %s/results.svg\n", out, out)
	return nil
}

func note(n string) string {
	if n == "" {
		return ""
	}
	return "  " + n
}

// latency runs a command n times (after one warm-up) and reports the
// median and the 90th percentile of its wall time.
func latency(name string, n int, command string, args ...string) Result {
	exec.Command(command, args...).Run()
	var times []float64
	failed := 0
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := exec.Command(command, args...).Run(); err != nil {
			failed++
		}
		times = append(times, float64(time.Since(start).Microseconds())/1000)
	}
	r := Result{Name: name, Unit: "ms", Median: percentile(times, 50), P90: percentile(times, 90), Runs: n}
	if failed > 0 {
		r.Note = fmt.Sprintf("%d runs failed", failed)
	}
	return r
}

func percentile(xs []float64, p float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// ratio sets each result's Ratio to its median over the baseline's, for the
// results of the same unit measured before it.
func ratio(results []Result, baseline string) {
	var base *Result
	for i := range results {
		if results[i].Name == baseline {
			base = &results[i]
		}
	}
	if base == nil || base.Median == 0 {
		return
	}
	for i := range results {
		if results[i].Unit == base.Unit && results[i].Baseline == "" {
			results[i].Baseline = baseline
			results[i].Ratio = results[i].Median / base.Median
		}
	}
}

// runcLatency makes a bundle over a copy of the rootfs with `runc spec` and
// times `runc run`.
func runcLatency(n int, root, out string) (Result, error) {
	if _, err := exec.LookPath("runc"); err != nil {
		return Result{}, errors.New("not installed (apt-get install runc)")
	}
	bundle := filepath.Join(out, "runc-bundle")
	os.RemoveAll(bundle)
	if err := rootfs.Copy(root, filepath.Join(bundle, "rootfs")); err != nil {
		return Result{}, err
	}
	spec := exec.Command("runc", "spec")
	spec.Dir = bundle
	if b, err := spec.CombinedOutput(); err != nil {
		return Result{}, fmt.Errorf("runc spec: %v: %s", err, b)
	}
	var config map[string]any
	b, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	json.Unmarshal(b, &config)
	process := config["process"].(map[string]any)
	process["terminal"] = false
	process["args"] = []string{"/bin/true"}
	b, _ = json.Marshal(config)
	os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644)
	defer os.RemoveAll(bundle)
	id := fmt.Sprintf("scbench-%d", os.Getpid())
	return latency("runc run", n, "runc", "run", "-b", bundle, id), nil
}

// concurrent starts n containers at once and times until all have exited.
func concurrent(n int, sc, root string) Result {
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := exec.Command(sc, "run", "-p", fmt.Sprintf("%d:80", 18900+i), root, "/bin/true").Run(); err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r := Result{Name: fmt.Sprintf("%d containers at once (networked, -p)", n), Unit: "ms",
		Median: float64(time.Since(start).Microseconds()) / 1000, Runs: 1}
	if failed > 0 {
		r.Note = fmt.Sprintf("%d failed", failed)
	}
	return r
}

// throughput sends 256 MiB to a sink in a container, through the published
// port on 127.0.0.1 and to the container's address, and to a sink on the
// host's loopback.
func throughput(sc, root string) []Result {
	const size = 256 << 20
	name := fmt.Sprintf("scbench%d", os.Getpid())
	cmd := exec.Command(sc, "run", "-hostname", name, "-p", "18991:5001", root, "/usr/local/bin/scbench", "sink", ":5001")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return []Result{{Name: "throughput", Note: err.Error()}}
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt) // forwarded: the sink has a handler
		cmd.Wait()
	}()
	address := ""
	for deadline := time.Now().Add(5 * time.Second); address == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		all, _ := container.List()
		for _, c := range all {
			if c.Running && c.Hostname() == name {
				address, _, _ = strings.Cut(c.Resources["address"], "/")
			}
		}
	}
	host, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return []Result{{Name: "throughput", Note: err.Error()}}
	}
	defer host.Close()
	go sink(host)

	var results []Result
	cases := []struct{ name, addr string }{
		{"TCP to the container's address", address + ":5001"},
		{"TCP through published 127.0.0.1:18991", "127.0.0.1:18991"},
		{"TCP over the host's loopback", host.Addr().String()},
	}
	const runs = 7
	for _, c := range cases {
		var rates []float64
		r := Result{Name: c.name, Unit: "MB/s", Runs: runs}
		for i := 0; i < runs; i++ {
			mbps, err := send(c.addr, size)
			if err != nil {
				r.Note = err.Error()
				break
			}
			rates = append(rates, mbps)
		}
		r.Median, r.P90 = percentile(rates, 50), percentile(rates, 10) // p90 of time: the slow tenth
		results = append(results, r)
	}
	return results
}

// send writes size bytes to addr and waits for the sink's one-byte answer
// that it read them all; it returns MB/s.
func send(addr string, size int) (float64, error) {
	var conn net.Conn
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if conn, err = net.Dial("tcp", addr); err == nil {
			break
		}
	}
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	buf := make([]byte, 1<<20)
	start := time.Now()
	for sent := 0; sent < size; sent += len(buf) {
		if _, err := conn.Write(buf); err != nil {
			return 0, err
		}
	}
	conn.(*net.TCPConn).CloseWrite()
	if _, err := conn.Read(buf[:1]); err != nil {
		return 0, fmt.Errorf("the sink did not confirm: %w", err)
	}
	return float64(size) / (1 << 20) / time.Since(start).Seconds(), nil
}

// serveSink listens on addr and discards what each connection sends, then
// answers one byte.
func serveSink(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sink:", err)
		os.Exit(1)
	}
	sink(l)
}

func sink(l net.Listener) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			io.Copy(io.Discard, conn)
			conn.Write([]byte{1})
		}()
	}
}

// chart draws the medians as horizontal bars, one group per unit.
func chart(results []Result) string {
	const width, bar, left = 760, 22, 330
	var b strings.Builder
	height := 40 + (bar+8)*len(results) + 30
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="13">`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="16" font-weight="bold">scratchcontainer bench (medians)</text>`+"\n")
	max := map[string]float64{}
	for _, r := range results {
		if r.Median > max[r.Unit] {
			max[r.Unit] = r.Median
		}
	}
	y := 40
	for _, r := range results {
		w := 0.0
		if max[r.Unit] > 0 {
			w = r.Median / max[r.Unit] * float64(width-left-110)
		}
		color := "#4a7ebb"
		if r.Unit == "MB/s" {
			color = "#5aa05a"
		}
		fmt.Fprintf(&b, `<text x="10" y="%d">%s</text>`+"\n", y+16, escape(r.Name))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", left, y, w, bar, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.1f %s</text>`+"\n", float64(left)+w+6, y+16, r.Median, r.Unit)
		y += bar + 8
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
