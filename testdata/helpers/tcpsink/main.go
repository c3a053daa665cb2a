// Command tcpsink accepts TCP connections and reads each to its end,
// throwing the bytes away: the receiving side of a throughput measurement
// (see tcpsource).
//
//	tcpsink :5001
package main

import (
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tcpsink ADDR")
		os.Exit(2)
	}
	l, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcpsink:", err)
		os.Exit(1)
	}
	for {
		conn, err := l.Accept()
		if err != nil {
			continue
		}
		go func() {
			io.Copy(io.Discard, conn)
			conn.Close() // tells the source every byte arrived
		}()
	}
}
