package checks_test

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/accrue/accrue/deploy/checks"
)

// checkEnv gives every container running an Accrue program the variables its code requires,
// from the ConfigMaps and Secrets the overlay renders (or external Secrets it names).
func checkEnv(t *testing.T, m manifests, o overlay, progs map[string]checks.Program) {
	for _, w := range m.workloads(progs) {
		ps := w.pod.Spec
		for _, v := range ps.Volumes {
			switch {
			case v.Secret != nil:
				if _, ok := m.secrets[v.Secret.SecretName]; !ok && !o.external(v.Secret.SecretName) {
					t.Errorf("%s %s: volume %s uses Secret %s, which the overlay neither renders nor expects from outside", w.kind, w.name, v.Name, v.Secret.SecretName)
				}
			case v.ConfigMap != nil:
				if _, ok := m.configMaps[v.ConfigMap.Name]; !ok {
					t.Errorf("%s %s: volume %s uses ConfigMap %s, which the overlay does not render", w.kind, w.name, v.Name, v.ConfigMap.Name)
				}
			}
		}
		if w.program == "" {
			continue
		}
		for _, c := range ps.Containers {
			env := map[string]string{}
			for _, ef := range c.EnvFrom {
				switch {
				case ef.ConfigMapRef != nil:
					cm, ok := m.configMaps[ef.ConfigMapRef.Name]
					if !ok {
						t.Errorf("%s %s: envFrom ConfigMap %s is not rendered", w.kind, w.name, ef.ConfigMapRef.Name)
					}
					for k, v := range cm.Data {
						env[ef.Prefix+k] = v
					}
				case ef.SecretRef != nil:
					// Its keys are unknown when the Secret comes from outside: name each one in env.
					s, ok := m.secrets[ef.SecretRef.Name]
					if !ok {
						t.Errorf("%s %s: envFrom Secret %s: use env[].valueFrom.secretKeyRef so the variables it sets are visible", w.kind, w.name, ef.SecretRef.Name)
					}
					for k, v := range s.Data {
						env[ef.Prefix+k] = string(v)
					}
					for k, v := range s.StringData {
						env[ef.Prefix+k] = v
					}
				}
			}
			for _, e := range c.Env {
				switch {
				case e.ValueFrom == nil:
					env[e.Name] = e.Value
				case e.ValueFrom.SecretKeyRef != nil:
					ref := e.ValueFrom.SecretKeyRef
					optional := ref.Optional != nil && *ref.Optional
					if s, ok := m.secrets[ref.Name]; ok {
						if v, ok := s.Data[ref.Key]; ok {
							env[e.Name] = string(v)
						} else if v, ok := s.StringData[ref.Key]; ok {
							env[e.Name] = v
						} else if !optional {
							t.Errorf("%s %s: %s: Secret %s has no key %s", w.kind, w.name, e.Name, ref.Name, ref.Key)
						}
					} else if o.external(ref.Name) {
						if !optional {
							env[e.Name] = "(from Secret " + ref.Name + ")"
						}
					} else if !optional {
						t.Errorf("%s %s: %s: Secret %s is neither rendered nor expected from outside", w.kind, w.name, e.Name, ref.Name)
					}
				case e.ValueFrom.ConfigMapKeyRef != nil:
					ref := e.ValueFrom.ConfigMapKeyRef
					if v, ok := m.configMaps[ref.Name].Data[ref.Key]; ok {
						env[e.Name] = v
					} else if ref.Optional == nil || !*ref.Optional {
						t.Errorf("%s %s: %s: ConfigMap %s has no key %s", w.kind, w.name, e.Name, ref.Name, ref.Key)
					}
				default:
					env[e.Name] = "(from the pod)"
				}
			}
			for _, p := range envProblems(progs[w.program], env) {
				t.Errorf("%s %s container %s: %s", w.kind, w.name, c.Name, p)
			}
			for _, p := range roleProblems(env, w.kind == "Job") {
				t.Errorf("%s %s container %s: %s", w.kind, w.name, c.Name, p)
			}
			checkUpstreams(t, m, w, env, progs)
			checkTraceExport(t, m, w, c.Name, env)
			if dsn, ok := env["ACCRUE_DATABASE_URL"]; ok && !strings.HasPrefix(dsn, "(") {
				if u, err := url.Parse(dsn); err != nil || strings.TrimPrefix(u.Path, "/") != "accrue_"+w.program {
					t.Errorf("%s %s: ACCRUE_DATABASE_URL names database %q, want accrue_%s", w.kind, w.name, u.Path, w.program)
				}
			}
		}
	}
}

// checkUpstreams resolves ACCRUE_<PROGRAM>_ADDR to a Service in front of that program's gRPC port.
func checkUpstreams(t *testing.T, m manifests, w workload, env map[string]string, progs map[string]checks.Program) {
	for other := range progs {
		addr, ok := env["ACCRUE_"+strings.ToUpper(other)+"_ADDR"]
		if !ok {
			continue
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Errorf("%s %s: ACCRUE_%s_ADDR=%q: %v", w.kind, w.name, strings.ToUpper(other), addr, err)
			continue
		}
		d, ok := m.deployment(other)
		if !ok {
			t.Errorf("%s %s: calls %s, which has no Deployment", w.kind, w.name, other)
			continue
		}
		grpc := containerPort(d.Spec.Template.Spec, "grpc")
		found := false
		for _, s := range m.services {
			if s.Name != host || !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
				continue
			}
			for _, sp := range s.Spec.Ports {
				if fmt.Sprint(sp.Port) == port && resolvePort(d.Spec.Template.Spec, sp.TargetPort) == grpc {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s %s: ACCRUE_%s_ADDR=%s: no Service %s selects %s's pods with port %s leading to its gRPC port %d", w.kind, w.name, strings.ToUpper(other), addr, host, other, port, grpc)
		}
	}
}
