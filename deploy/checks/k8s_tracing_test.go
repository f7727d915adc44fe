package checks_test

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

// checkCollector: the overlay runs the OpenTelemetry collector (deploy/k8s/components/tracing)
// with a configuration that receives OTLP/gRPC on the port its container declares as otlp-grpc.
func checkCollector(t *testing.T, m manifests) {
	d, ok := m.deployment(collectorService)
	if !ok {
		t.Errorf("no Deployment %s: the pods' spans go nowhere (include components/tracing)", collectorService)
		return
	}
	ps := d.Spec.Template.Spec
	otlp := containerPort(ps, "otlp-grpc")
	configured := false
	for _, v := range ps.Volumes {
		if v.ConfigMap == nil {
			continue
		}
		for name, data := range m.configMaps[v.ConfigMap.Name].Data {
			id := fmt.Sprintf("ConfigMap %s key %s", v.ConfigMap.Name, name)
			if port := checkCollectorConfig(t, id, []byte(data)); port != fmt.Sprint(otlp) {
				t.Errorf("%s: the OTLP receiver listens on port %s, the container declares otlp-grpc %d", id, port, otlp)
			}
			configured = true
		}
	}
	if !configured {
		t.Errorf("Deployment %s: mounts no configuration ConfigMap", collectorService)
	}
}

// checkTraceExport: a container running an Accrue program has OTEL_EXPORTER_OTLP_ENDPOINT naming
// a Service in front of the collector's OTLP/gRPC port, and the NetworkPolicies let it connect.
func checkTraceExport(t *testing.T, m manifests, w workload, container string, env map[string]string) {
	id := fmt.Sprintf("%s %s container %s", w.kind, w.name, container)
	d, ok := m.deployment(collectorService)
	if !ok {
		t.Errorf("%s: no collector to export spans to", id)
		return
	}
	otlp := containerPort(d.Spec.Template.Spec, "otlp-grpc")
	for _, s := range m.services {
		if s.Name != collectorService || !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
			continue
		}
		for _, sp := range s.Spec.Ports {
			if resolvePort(d.Spec.Template.Spec, sp.TargetPort) != otlp {
				continue
			}
			if problem := endpointProblem(env, s.Name, fmt.Sprint(sp.Port)); problem != "" {
				t.Errorf("%s: %s", id, problem)
			}
			from := peer{ns: m.namespace, labels: w.pod.Labels}
			to := peer{ns: m.namespace, labels: d.Spec.Template.Labels}
			if !allowed(m.policies, m.namespace, from, to, otlp, "TCP") {
				t.Errorf("%s: the NetworkPolicies drop its spans (no egress to, or ingress at, %s port %d)", id, collectorService, otlp)
			}
			return
		}
	}
	t.Errorf("%s: no Service %s selects the collector's pods with a port leading to otlp-grpc %d", id, collectorService, otlp)
}
