// Command releaseprobe stands in for cmd/extproc in deploy's test of
// `make release`: it is built with the same flags, in seconds, and reports
// what they did.
package main

import (
	"fmt"
	"runtime/debug"
)

var version = "dev"

func main() {
	fmt.Println("version", version)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			fmt.Println(s.Key, s.Value)
		}
	}
}
