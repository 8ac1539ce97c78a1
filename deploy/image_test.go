// Tests of the release shape that need no container engine: the Dockerfile,
// parsed with BuildKit's own Dockerfile parser and build checks, and the
// Makefile's static multi-platform release build.
package deploy_test

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

func parseDockerfile(t *testing.T, src []byte) []instructions.Stage {
	t.Helper()
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("Dockerfile: %s", w.Short)
	}
	var lint []string
	l := linter.New(&linter.Config{Warn: func(rule, description, url, msg string, loc []parser.Range) {
		lint = append(lint, fmt.Sprintf("%s: %s", rule, msg))
	}})
	stages, _, err := instructions.Parse(res.AST, l)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	for _, w := range lint {
		t.Errorf("Dockerfile build check: %s", w)
	}
	return stages
}

func TestDockerfileIsDistrolessNonRootStatic(t *testing.T) {
	src, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages := parseDockerfile(t, src)
	if len(stages) != 2 {
		t.Fatalf("%d stages, want build and runtime", len(stages))
	}
	build, final := stages[0], stages[1]

	// The build stage uses the toolchain of go.mod and cross-compiles a
	// static, trimmed binary.
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if !strings.HasPrefix(build.BaseName, "golang:"+string(goVersion[1])) {
		t.Errorf("build stage FROM %s, want golang:%s (go.mod)", build.BaseName, goVersion[1])
	}
	if build.Platform != "$BUILDPLATFORM" {
		t.Errorf("build stage platform %q: cross-compile from $BUILDPLATFORM for multi-arch images", build.Platform)
	}
	var goBuild string
	for _, c := range build.Commands {
		if r, ok := c.(*instructions.RunCommand); ok && strings.Contains(strings.Join(r.CmdLine, " "), "go build") {
			goBuild = strings.Join(r.CmdLine, " ")
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=${TARGETOS}", "GOARCH=${TARGETARCH}", "-trimpath", "-X main.version=${VERSION}"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("go build %q lacks %s", goBuild, want)
		}
	}

	// The runtime stage is distroless, runs as a numeric non-root user, adds
	// only the binary and runs nothing (there is no shell to run it with).
	if !strings.HasPrefix(final.BaseName, "gcr.io/distroless/static") || !strings.HasSuffix(final.BaseName, ":nonroot") {
		t.Errorf("runtime FROM %s, want gcr.io/distroless/static…:nonroot", final.BaseName)
	}
	var user string
	var entrypoint *instructions.EntrypointCommand
	var exposed []string
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.EntrypointCommand:
			entrypoint = c
		case *instructions.ExposeCommand:
			exposed = append(exposed, c.Ports...)
		case *instructions.CopyCommand:
			if c.From != build.Name {
				t.Errorf("runtime stage copies from %q, want only the build stage", c.From)
			}
		case *instructions.RunCommand, *instructions.AddCommand:
			t.Errorf("runtime stage has %s: it must only copy the binary in", c.Name())
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || uid == "root" || !regexp.MustCompile(`^\d+$`).MatchString(uid) {
		t.Errorf("USER %q, want a numeric non-root uid (Kubernetes runAsNonRoot checks it)", user)
	}
	if entrypoint == nil || entrypoint.PrependShell || !slices.Equal(entrypoint.CmdLine, []string{"/app"}) {
		t.Errorf("ENTRYPOINT %+v, want exec form [\"/app\"]", entrypoint)
	}
	slices.Sort(exposed)
	if !slices.Equal(exposed, []string{"50051", "9090"}) {
		t.Errorf("EXPOSE %v, want the gRPC and metrics ports", exposed)
	}

	// Local builds and dependencies stay out of the build context.
	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**/node_modules/", "bin/", ".git/"} {
		if !strings.Contains(string(ignore), want+"\n") {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}

// The parser must see a broken Dockerfile: a root user and a shell in the
// runtime stage fail.
func TestDockerfileCheckCatchesRoot(t *testing.T) {
	src, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "USER 65532:65532", "USER 0", 1)
	stages := parseDockerfile(t, []byte(bad))
	for _, c := range stages[1].Commands {
		if u, ok := c.(*instructions.UserCommand); ok && u.User != "0" {
			t.Fatalf("USER not parsed as written: %q", u.User)
		}
	}
}

// make release builds a static, trimmed binary per platform with its
// checksum. Building cmd/extproc for every platform would take minutes of
// CPU, so the test builds a small stand-in (testdata/releaseprobe, through
// RELEASE_PKG) with the same recipe, for this platform and one other, and
// checks the platform list.
func TestMakeReleaseBuildsStaticBinaries(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is part of the development setup:", err)
	}
	out, err := exec.Command("make", "-C", "..", "-pn", "release").CombinedOutput()
	if err != nil {
		t.Fatalf("make -pn release: %v\n%s", err, out)
	}
	platforms := regexp.MustCompile(`(?m)^PLATFORMS \??= (.*)$`).FindSubmatch(out)
	if platforms == nil {
		t.Fatal("the Makefile sets no PLATFORMS")
	}
	for _, want := range []string{"linux/amd64", "linux/arm64"} {
		if !slices.Contains(strings.Fields(string(platforms[1])), want) {
			t.Errorf("PLATFORMS = %s, lacks %s", platforms[1], want)
		}
	}
	if !regexp.MustCompile(`(?m)^RELEASE_PKG \??= \./cmd/extproc$`).Match(out) {
		t.Error("make release must build ./cmd/extproc by default")
	}

	dist := t.TempDir()
	other := "linux/arm64"
	if runtime.GOARCH == "arm64" {
		other = "linux/amd64"
	}
	host := runtime.GOOS + "/" + runtime.GOARCH
	cmd := exec.Command("make", "-C", "..", "release", "PLATFORMS="+host+" "+other, "DIST="+dist,
		"VERSION=v9.8.7-test", "RELEASE_PKG=./deploy/testdata/releaseprobe")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{host, other} {
		name := "extproc-" + strings.ReplaceAll(p, "/", "-")
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if want := hex.EncodeToString(sum[:]) + "  " + name + "\n"; !strings.Contains(string(sums), want) {
			t.Errorf("SHA256SUMS lacks %q:\n%s", want, sums)
		}
		f, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := map[string]elf.Machine{"linux/amd64": elf.EM_X86_64, "linux/arm64": elf.EM_AARCH64}[p]; f.Machine != want {
			t.Errorf("%s is built for %v", name, f.Machine)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s asks for a dynamic loader: it is not static", name)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("%s links %v", name, libs)
		}
	}
	v, err := exec.Command(filepath.Join(dist, "extproc-"+strings.ReplaceAll(host, "/", "-"))).CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, v)
	}
	for _, want := range []string{"version v9.8.7-test\n", "CGO_ENABLED 0\n", "-trimpath true\n"} {
		if !strings.Contains(string(v), want) {
			t.Errorf("the release build lacks %q:\n%s", want, v)
		}
	}
}

// The build context leaves out what no binary needs (.git, node_modules,
// local policies, keys) and keeps every file the image's two targets
// compile or embed, read with the Docker CLI's own .dockerignore rules.
func TestDockerignore(t *testing.T) {
	f, err := os.Open("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	excluded := func(rel string) bool {
		ok, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, out := range []string{".git/HEAD", "e2e/node/node_modules/x/index.js", "examples/external/keyword-moderation/node_modules/a/b.js", "bin/extproc", "my-policy.yaml", "tls/server.key"} {
		if !excluded(out) {
			t.Errorf("%s is in the build context", out)
		}
	}
	// Every file the Dockerfile's targets need: go.mod, go.sum, and the Go
	// and embedded files of every package of this module they import.
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", "-f", `{{if .Module}}{{if .Module.Main}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}{{end}}`, "./cmd/extproc", "./examples/mcp-server")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	need := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		dir, err := filepath.Rel(root, fields[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fields[1:] {
			need = append(need, filepath.ToSlash(filepath.Join(dir, f)))
		}
	}
	if len(need) < 50 {
		t.Fatalf("only %d files found: %s", len(need), out)
	}
	for _, f := range need {
		if excluded(f) {
			t.Errorf(".dockerignore leaves out %s, which the image build needs", f)
		}
	}
}
