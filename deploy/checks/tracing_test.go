package checks_test

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"

	"github.com/accrue/accrue/deploy/checks"
)

// collectorService is the OpenTelemetry collector's name: the compose service, and the
// Kubernetes Deployment and Service (deploy/k8s/components/tracing).
const collectorService = "otel-collector"

// otlpEndpoint is the variable that turns tracing on in every program (internal/platform/telemetry).
const otlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT"

// collectorConfig is the part of an OpenTelemetry collector configuration the checks read.
type collectorConfig struct {
	Receivers struct {
		OTLP struct {
			Protocols struct {
				GRPC struct {
					Endpoint string `json:"endpoint"`
				} `json:"grpc"`
			} `json:"protocols"`
		} `json:"otlp"`
	} `json:"receivers"`
	Processors map[string]any `json:"processors"`
	Exporters  map[string]any `json:"exporters"`
	Extensions map[string]any `json:"extensions"`
	Service    struct {
		Extensions []string `json:"extensions"`
		Pipelines  map[string]struct {
			Receivers  []string `json:"receivers"`
			Processors []string `json:"processors"`
			Exporters  []string `json:"exporters"`
		} `json:"pipelines"`
	} `json:"service"`
}

// checkCollectorConfig parses a collector configuration and checks that it receives OTLP/gRPC
// and runs a traces pipeline whose every component is defined. It returns the receiver's port.
func checkCollectorConfig(t *testing.T, id string, data []byte) string {
	t.Helper()
	var c collectorConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Errorf("%s: %v", id, err)
		return ""
	}
	_, port, err := net.SplitHostPort(c.Receivers.OTLP.Protocols.GRPC.Endpoint)
	if err != nil {
		t.Errorf("%s: receivers.otlp.protocols.grpc.endpoint %q: %v", id, c.Receivers.OTLP.Protocols.GRPC.Endpoint, err)
	}
	p, ok := c.Service.Pipelines["traces"]
	if !ok || !slices.Contains(p.Receivers, "otlp") || len(p.Exporters) == 0 {
		t.Errorf("%s: no traces pipeline from the otlp receiver to an exporter (%+v)", id, p)
	}
	for _, n := range p.Processors {
		if _, ok := c.Processors[n]; !ok {
			t.Errorf("%s: the traces pipeline names processor %s, which is not defined", id, n)
		}
	}
	for _, n := range p.Exporters {
		if _, ok := c.Exporters[n]; !ok {
			t.Errorf("%s: the traces pipeline names exporter %s, which is not defined", id, n)
		}
	}
	for _, n := range c.Service.Extensions {
		if _, ok := c.Extensions[n]; !ok {
			t.Errorf("%s: service.extensions names %s, which is not defined", id, n)
		}
	}
	return port
}

// endpointProblem says what is wrong with a program's OTLP endpoint, which must name host on port.
func endpointProblem(env map[string]string, host, port string) string {
	v, ok := env[otlpEndpoint]
	if !ok || v == "" {
		return otlpEndpoint + " is not set: the program exports no span"
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Hostname() != host || u.Port() != port {
		return otlpEndpoint + "=" + v + ", want http://" + host + ":" + port + " (the collector's OTLP/gRPC receiver)"
	}
	return ""
}

// checkComposeTracing: the compose system runs a collector, pinned by tag, with its
// configuration from deploy/compose/otel/, and every container running an Accrue program
// exports its spans to the collector's receiver.
func checkComposeTracing(t *testing.T, p *types.Project, progs map[string]checks.Program) {
	c, ok := p.Services[collectorService]
	if !ok {
		t.Fatalf("no %s service: the processes' spans go nowhere", collectorService)
	}
	if name, tag, _ := strings.Cut(c.Image, ":"); !strings.HasPrefix(name, "otel/opentelemetry-collector") || tag == "" || tag == "latest" {
		t.Errorf("%s: image %q, want otel/opentelemetry-collector-contrib pinned by tag", collectorService, c.Image)
	}
	config := ""
	for _, a := range c.Command {
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			config = v
		}
	}
	port := ""
	for _, v := range c.Volumes {
		if v.Type == types.VolumeTypeBind && v.Target == config {
			if !strings.Contains(v.Source, "/deploy/compose/otel/") {
				t.Errorf("%s: configuration %s is not under deploy/compose/otel/", collectorService, v.Source)
			}
			b, err := os.ReadFile(v.Source)
			if err != nil {
				t.Fatalf("%s: %v", collectorService, err)
			}
			port = checkCollectorConfig(t, v.Source, b)
		}
	}
	if port == "" {
		t.Errorf("%s: command %v names no --config file mounted from the repository", collectorService, c.Command)
	}
	for name, s := range p.Services {
		if d, ok := s.DependsOn[collectorService]; ok && d.Condition == types.ServiceConditionHealthy {
			t.Errorf("%s: waits for %s to be healthy, which it cannot report", name, collectorService)
		}
		if _, ok := progs[program(s.Image)]; !ok {
			continue
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			if v != nil {
				env[k] = *v
			}
		}
		if problem := endpointProblem(env, collectorService, port); problem != "" {
			t.Errorf("%s: %s", name, problem)
		}
	}
}

// TestCollectorConfigsAgree: compose and Kubernetes run the collector with the same pipeline
// (docs/deploy.md says so); only the comments may differ.
func TestCollectorConfigsAgree(t *testing.T) {
	t.Parallel()
	var parsed [2]map[string]any
	for i, f := range []string{"deploy/compose/otel/config.yaml", "deploy/k8s/components/tracing/collector-config.yaml"} {
		b, err := os.ReadFile(filepath.Join(root(t), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, &parsed[i]); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if !reflect.DeepEqual(parsed[0], parsed[1]) {
		t.Errorf("the compose and Kubernetes collector configurations differ:\n%v\n%v", parsed[0], parsed[1])
	}
}
