// Command memhog allocates N MiB and writes to every page of it, so the
// kernel really has to provide the memory (an allocation alone is only a
// promise). It prints "ok" if it got it all; under a memory limit that is
// too small, the kernel's OOM killer kills it first.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: memhog MIB")
		os.Exit(2)
	}
	mib, err := strconv.Atoi(os.Args[1])
	if err != nil || mib < 1 {
		fmt.Fprintln(os.Stderr, "memhog: MIB must be a positive number")
		os.Exit(2)
	}
	chunks := make([][]byte, mib)
	for i := range chunks {
		chunks[i] = make([]byte, 1<<20)
		for p := 0; p < len(chunks[i]); p += 4096 {
			chunks[i][p] = 1
		}
	}
	fmt.Println("ok")
}
