// Command tcpsource sends bytes to a tcpsink as fast as it can and prints
// the throughput: from the first byte until the sink has read the last one
// and closed.
//
//	tcpsource -mb 2048 127.0.0.1:18080
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	mb := flag.Int("mb", 1024, "send `N` MiB")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: tcpsource [-mb N] ADDR")
		os.Exit(2)
	}
	conn, err := net.Dial("tcp", flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcpsource:", err)
		os.Exit(1)
	}
	buf := make([]byte, 256<<10)
	start := time.Now()
	for sent := 0; sent < *mb<<20; sent += len(buf) {
		if _, err := conn.Write(buf); err != nil {
			fmt.Fprintln(os.Stderr, "tcpsource:", err)
			os.Exit(1)
		}
	}
	conn.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, conn) // EOF: the sink read everything
	elapsed := time.Since(start)
	fmt.Printf("%d MiB in %v: %.0f MiB/s\n", *mb, elapsed.Round(time.Millisecond), float64(*mb)/elapsed.Seconds())
}
