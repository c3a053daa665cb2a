package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"scratchcontainer/internal/rootfs"
	"scratchcontainer/runtime/container"
)

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
	r := Result{Name: name, Kind: "latency", Unit: "ms", Median: percentile(times, 50), P90: percentile(times, 90), Runs: n}
	if failed > 0 {
		r.Note = fmt.Sprintf("%d runs failed", failed)
	}
	return r
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
	return latency(runcName, n, "runc", "run", "-b", bundle, id), nil
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
	r := Result{Name: fmt.Sprintf("%d containers at once (networked, -p)", n), Kind: "concurrent", Unit: "ms",
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
		return []Result{{Name: "throughput", Kind: "throughput", Note: err.Error()}}
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
		return []Result{{Name: "throughput", Kind: "throughput", Note: err.Error()}}
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
		r := Result{Name: c.name, Kind: "throughput", Unit: "MiB/s", Runs: runs}
		for i := 0; i < runs; i++ {
			rate, err := send(c.addr, size)
			if err != nil {
				r.Note = err.Error()
				break
			}
			rates = append(rates, rate)
		}
		r.Median, r.P90 = percentile(rates, 50), percentile(rates, 10) // p90 of time: the slow tenth
		results = append(results, r)
	}
	return results
}

// send writes size bytes to addr and waits for the sink's one-byte answer
// that it read them all; it returns MiB/s.
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
