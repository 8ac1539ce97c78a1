package envoy_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/mcp-extproc/mcp-extproc/envoy"
	"github.com/mcp-extproc/mcp-extproc/framework"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
)

// The demo's docker-compose.yaml is wired the way envoy.yaml expects: the
// Envoy image is pinned and reads the mounted envoy.yaml, the clusters name
// the compose services on the ports they listen on, and the mounted policy
// exists and loads.
func TestDockerCompose(t *testing.T) {
	root, _ := filepath.Abs("..")
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yaml")},
		cli.WithWorkingDirectory(root), cli.WithName("mcp-extproc"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	svc := func(name string) types.ServiceConfig {
		s, err := p.GetService(name)
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		return s
	}
	ev, ex, ms := svc("envoy"), svc("extproc"), svc("mcp-server")

	// Envoy: an official image pinned to a version, reading the mounted bootstrap.
	if !regexp.MustCompile(`^envoyproxy/envoy:v\d+\.\d+\.\d+$`).MatchString(ev.Image) {
		t.Errorf("envoy image %q is not pinned to a version", ev.Image)
	}
	cfgPath := argAfter(ev.Command, "-c")
	src := mountSource(t, ev, cfgPath)
	if src != filepath.Join(root, "envoy", "envoy.yaml") {
		t.Errorf("envoy reads %s, mounted from %q", cfgPath, src)
	}
	if !published(ev, 8080) {
		t.Error("envoy's listener port 8080 is not published")
	}

	// The bootstrap's clusters point at the compose services.
	y, _ := os.ReadFile(src)
	b, err := envoy.ParseBootstrap(y)
	if err != nil {
		t.Fatal(err)
	}
	clusters := map[string]string{}
	for _, c := range b.StaticResources.Clusters {
		sa := c.LoadAssignment.Endpoints[0].LbEndpoints[0].GetEndpoint().GetAddress().GetSocketAddress()
		clusters[c.Name] = sa.GetAddress() + ":" + strconv.Itoa(int(sa.GetPortValue()))
	}
	if clusters["mcp_extproc"] != "extproc:50051" || clusters["mcp_server"] != "mcp-server:3001" {
		t.Errorf("clusters %v do not match the compose services", clusters)
	}

	// extproc: serves the mounted policy, which loads, on the port the cluster uses.
	policyPath := argAfter(ex.Command, "--config")
	policySrc := mountSource(t, ex, policyPath)
	cfg, _, err := framework.Load(policySrc, framework.LoadOptions{})
	if err != nil {
		t.Fatalf("mounted policy: %v", err)
	}
	if _, port, _ := splitPort(cfg.Server.Listen); port != "50051" {
		t.Errorf("extproc listens on %s, envoy expects 50051", cfg.Server.Listen)
	}
	if ex.Build == nil || ms.Build == nil || ms.Build.Args["TARGET"] == nil || *ms.Build.Args["TARGET"] != "./examples/mcp-server" {
		t.Errorf("extproc and the example MCP server must build from this repository")
	}
	if argAfter(ms.Command, "-http") != "0.0.0.0:3001" {
		t.Errorf("the example MCP server must listen on 3001: %v", ms.Command)
	}
}

func argAfter(cmd types.ShellCommand, flag string) string {
	i := slices.Index(cmd, flag)
	if i < 0 || i+1 >= len(cmd) {
		return ""
	}
	return cmd[i+1]
}

func mountSource(t *testing.T, s types.ServiceConfig, target string) string {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Target == target {
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s, which does not exist", s.Name, v.Source)
			}
			return v.Source
		}
	}
	t.Fatalf("%s: nothing mounted at %q", s.Name, target)
	return ""
}

func published(s types.ServiceConfig, port uint32) bool {
	for _, p := range s.Ports {
		if p.Target == port && p.Published != "" {
			return true
		}
	}
	return false
}

func splitPort(addr string) (string, string, error) {
	i := len(addr) - 1
	for i >= 0 && addr[i] != ':' {
		i--
	}
	return addr[:max(i, 0)], addr[i+1:], nil
}
