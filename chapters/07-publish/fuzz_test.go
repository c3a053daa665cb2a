package publish

import (
	"testing"
)

// go test -fuzz FuzzParsePort ./chapters/07-publish/
func FuzzParsePort(f *testing.F) {
	for _, s := range []string{"8080:80", "5353:53/udp", "0:80", "65536:80", ":80", "80:", "80", "a:b", "80:80/sctp", "+80:80", "080:80", "1:1/tcp/udp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := ParsePort(spec)
		if err != nil {
			return
		}
		if p.Host < 1 || p.Host > 65535 || p.Container < 1 || p.Container > 65535 {
			t.Fatalf("ParsePort(%q) = %v: a port out of 1..65535", spec, p)
		}
		if p.Proto != "tcp" && p.Proto != "udp" {
			t.Fatalf("ParsePort(%q) = %v: protocol %q", spec, p, p.Proto)
		}
		// What it accepted reads back the same from its canonical form.
		again, err := ParsePort(p.String())
		if err != nil || again != p {
			t.Fatalf("ParsePort(%q) = %v, but ParsePort(%q) = %v, %v", spec, p, p.String(), again, err)
		}
	})
}
