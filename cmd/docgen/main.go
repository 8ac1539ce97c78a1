// Command docgen writes the documents generated from the code: the policy
// JSON Schema, the configuration reference and the metrics reference. Run
// it from the module root (make docs); internal/docgen's tests fail when a
// committed file differs from what it would write.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mcp-extproc/mcp-extproc/internal/docgen"
)

func main() {
	dir := flag.String("dir", ".", "module root to write docs/ into")
	flag.Parse()
	files, err := docgen.Generate(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
	for _, f := range files {
		path := filepath.Join(*dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "docgen:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "docgen:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", f.Path)
	}
}
