// Command udpecho answers UDP datagrams, or sends one and prints the answer.
//
//	udpecho -listen :53 -for 20s        answer each datagram with "echo: " and it, for 20s,
//	                                    and log it on stdout: got "hi" from 127.0.0.1:40000
//	udpecho -send 127.0.0.1:5353 hi     send "hi" until an answer comes (5s at most)
//
// busybox's nc has no UDP mode, and a UDP server gives no sign that it is up:
// the sender retries until the server answers.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	listen := flag.String("listen", "", "answer on `ADDR`")
	send := flag.String("send", "", "send to `ADDR`")
	lifetime := flag.Duration("for", time.Minute, "serve for `DURATION`, then exit")
	within := flag.Duration("within", 5*time.Second, "give up sending after `DURATION`")
	flag.Parse()
	switch {
	case *listen != "":
		time.AfterFunc(*lifetime, func() { os.Exit(0) })
		serve(*listen)
	case *send != "" && flag.NArg() == 1:
		os.Exit(ask(*send, flag.Arg(0), *within))
	default:
		fmt.Fprintln(os.Stderr, "usage: udpecho -listen ADDR | -send ADDR MESSAGE")
		os.Exit(2)
	}
}

func serve(addr string) {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpecho:", err)
		os.Exit(1)
	}
	buf := make([]byte, 64<<10)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			continue
		}
		fmt.Printf("got %q from %s\n", buf[:n], from)
		conn.WriteTo(append([]byte("echo: "), buf[:n]...), from)
	}
}

func ask(addr, message string, within time.Duration) int {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpecho:", err)
		return 1
	}
	buf := make([]byte, 64<<10)
	for deadline := time.Now().Add(within); time.Now().Before(deadline); {
		conn.Write([]byte(message))
		conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, err := conn.Read(buf); err == nil {
			fmt.Println(string(buf[:n]))
			return 0
		}
	}
	fmt.Fprintf(os.Stderr, "udpecho: no answer from %s within %v\n", addr, within)
	return 1
}
