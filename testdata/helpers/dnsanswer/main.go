// Command dnsanswer is the smallest DNS server a test needs: it answers A
// queries for one name with one address, every other query with no
// records, and logs each query on stdout.
//
//	dnsanswer -listen 198.51.100.2:53 -name web.test -a 198.51.100.80 -for 20s
//	    logs: query web.test A from 198.51.100.1:40000
//
// A real resolver in a test would be a real resolver's behaviour to reason
// about (recursion, caches, upstreams); this one never sends a packet of
// its own, so nothing leaves the test's network namespace.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	listen := flag.String("listen", "", "answer on `ADDR` (host:53)")
	name := flag.String("name", "", "the one `NAME` it knows")
	a := flag.String("a", "", "the IPv4 `ADDRESS` of NAME")
	lifetime := flag.Duration("for", time.Minute, "serve for `DURATION`, then exit")
	flag.Parse()
	ip := net.ParseIP(*a).To4()
	if *listen == "" || *name == "" || ip == nil {
		fmt.Fprintln(os.Stderr, "usage: dnsanswer -listen ADDR -name NAME -a IPv4")
		os.Exit(2)
	}
	conn, err := net.ListenPacket("udp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dnsanswer:", err)
		os.Exit(1)
	}
	time.AfterFunc(*lifetime, func() { os.Exit(0) })
	buf := make([]byte, 512)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			continue
		}
		q, qtype, end, ok := question(buf[:n])
		if !ok {
			continue
		}
		fmt.Printf("query %s %s from %s\n", q, typeName(qtype), from)
		conn.WriteTo(answer(buf[:end], strings.EqualFold(q, strings.TrimSuffix(*name, ".")) && qtype == 1, ip), from)
	}
}

// question reads the name and type of a query's one question (RFC 1035
// 4.1.2); end is where the question ends.
func question(msg []byte) (name string, qtype uint16, end int, ok bool) {
	if len(msg) < 12 || binary.BigEndian.Uint16(msg[4:]) != 1 {
		return "", 0, 0, false
	}
	var labels []string
	i := 12
	for i < len(msg) && msg[i] != 0 {
		l := int(msg[i])
		if l > 63 || i+1+l > len(msg) {
			return "", 0, 0, false
		}
		labels = append(labels, string(msg[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(msg) {
		return "", 0, 0, false
	}
	return strings.Join(labels, "."), binary.BigEndian.Uint16(msg[i+1:]), i + 5, true
}

// answer is the response to the query msg (header and question): with
// found, one A record for the question's name; else no record.
func answer(msg []byte, found bool, ip net.IP) []byte {
	out := append([]byte(nil), msg...)
	out[2] = 0x84 | out[2]&0x01 // QR, AA, keep RD
	out[3] = 0x80               // RA, NOERROR
	binary.BigEndian.PutUint16(out[6:], 0)
	binary.BigEndian.PutUint16(out[8:], 0)
	binary.BigEndian.PutUint16(out[10:], 0)
	if !found {
		return out
	}
	binary.BigEndian.PutUint16(out[6:], 1)
	// The name as a pointer to the question's (offset 12), A, IN, TTL 60.
	out = append(out, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
	return append(out, ip...)
}

func typeName(t uint16) string {
	switch t {
	case 1:
		return "A"
	case 28:
		return "AAAA"
	}
	return fmt.Sprint(t)
}
