package checks_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/accrue/accrue/deploy/checks"
)

// overlay is one deploy/k8s/overlays/<name>.
type overlay struct {
	name string
	// external reports whether the overlay expects a Secret it does not render to be created
	// outside the repository (docs/deploy.md lists them).
	external func(secret string) bool
}

var overlays = []overlay{
	{name: "dev", external: func(s string) bool { return s == "accrue-dev-credentials" || linkSecret(s) }},
	{name: "prod", external: func(s string) bool { return strings.HasSuffix(s, "-secrets") || linkSecret(s) }},
}

// linkSecret reports whether s is one of the internal links' Secrets every overlay expects from
// outside: a program's certificate (<program>-tls, e.g. from cert-manager) or a producer's event
// keys (<producer>-event-keys).
func linkSecret(s string) bool {
	return strings.HasSuffix(s, "-tls") || strings.HasSuffix(s, "-event-keys") || strings.HasSuffix(s, "-secret-keys")
}

// manifests is one overlay's output, decoded strictly into the Kubernetes API types.
type manifests struct {
	namespace       string
	deployments     []appsv1.Deployment
	jobs            []batchv1.Job
	services        []corev1.Service
	pdbs            []policyv1.PodDisruptionBudget
	hpas            []autoscalingv2.HorizontalPodAutoscaler
	policies        []networkingv1.NetworkPolicy
	configMaps      map[string]corev1.ConfigMap
	secrets         map[string]corev1.Secret
	serviceMonitors []map[string]any
	prometheusRules []map[string]any
}

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
		policyv1.AddToScheme, autoscalingv2.AddToScheme, networkingv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// build runs kustomize on the overlay (as `kubectl kustomize` would: files only from inside the
// kustomization) and decodes every object strictly: an unknown or duplicated field is an error.
func build(t *testing.T, o overlay) manifests {
	t.Helper()
	dir := filepath.Join(root(t), "deploy/k8s/overlays", o.name)
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	strict := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Strict: true})
	m := manifests{configMaps: map[string]corev1.ConfigMap{}, secrets: map[string]corev1.Secret{}}
	for _, r := range rm.Resources() {
		b, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("%s %s", r.GetGvk().Kind, r.GetName())
		if r.GetGvk().Group == "monitoring.coreos.com" { // a CRD: no Go types here
			var u map[string]any
			if err := json.Unmarshal(b, &u); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			switch r.GetGvk().Kind {
			case "ServiceMonitor":
				m.serviceMonitors = append(m.serviceMonitors, u)
			case "PrometheusRule": // its rules: monitoring_test.go
				m.prometheusRules = append(m.prometheusRules, u)
			default:
				t.Errorf("%s: unexpected monitoring.coreos.com kind", id)
			}
			continue
		}
		obj, _, err := strict.Decode(b, nil, nil)
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		if ns, ok := obj.(*corev1.Namespace); ok {
			m.namespace = ns.Name
			continue
		}
		if meta, ok := obj.(metav1.Object); ok && meta.GetNamespace() == "" {
			t.Errorf("%s: no namespace (the overlay should set it)", id)
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			m.deployments = append(m.deployments, *o)
		case *batchv1.Job:
			m.jobs = append(m.jobs, *o)
		case *corev1.Service:
			m.services = append(m.services, *o)
		case *policyv1.PodDisruptionBudget:
			m.pdbs = append(m.pdbs, *o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			m.hpas = append(m.hpas, *o)
		case *networkingv1.NetworkPolicy:
			m.policies = append(m.policies, *o)
		case *corev1.ConfigMap:
			m.configMaps[o.Name] = *o
		case *corev1.Secret:
			m.secrets[o.Name] = *o
		default:
			t.Errorf("%s: a kind the checks do not know: teach k8s_test.go what to assert about it", id)
		}
	}
	if m.namespace == "" {
		t.Error("the overlay creates no Namespace")
	}
	return m
}

// workload is a pod template and what runs it.
type workload struct {
	kind, name string
	pod        corev1.PodTemplateSpec
	program    string // the Accrue program it runs, if any (app.kubernetes.io/name)
}

func (m manifests) workloads(progs map[string]checks.Program) []workload {
	var out []workload
	for _, d := range m.deployments {
		out = append(out, workload{"Deployment", d.Name, d.Spec.Template, ""})
	}
	for _, j := range m.jobs {
		out = append(out, workload{"Job", j.Name, j.Spec.Template, ""})
	}
	for i := range out {
		if n := out[i].pod.Labels["app.kubernetes.io/name"]; progs[n].Name != "" {
			out[i].program = n
		}
	}
	return out
}

// TestKustomizeOverlays builds each overlay and checks what a cluster would run: every container
// non-root on a read-only filesystem with no privileges, with requests and limits; every
// Deployment probed and covered by a PodDisruptionBudget; every program given each variable its
// code requires; migrations as Jobs; the billing workers autoscaled on CPU and stream lag; and
// network policies that allow exactly the calls the code makes.
func TestKustomizeOverlays(t *testing.T) {
	t.Parallel()
	progs := programs(t)
	for _, o := range overlays {
		t.Run(o.name, func(t *testing.T) {
			t.Parallel()
			m := build(t, o)
			checkPods(t, m, progs)
			checkEnv(t, m, o, progs)
			checkDeployments(t, m, progs)
			checkNetwork(t, m, progs)
			checkMonitoring(t, o, m)
			checkDatastores(t, m, progs)
			checkCollector(t, m)
		})
	}
}

func (m manifests) deployment(name string) (appsv1.Deployment, bool) {
	for _, d := range m.deployments {
		if d.Name == name {
			return d, true
		}
	}
	return appsv1.Deployment{}, false
}

func containerPort(ps corev1.PodSpec, name string) int32 {
	for _, c := range ps.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return p.ContainerPort
			}
		}
	}
	return 0
}

func resolvePort(ps corev1.PodSpec, p intstr.IntOrString) int32 {
	if p.Type == intstr.String {
		return containerPort(ps, p.StrVal)
	}
	return p.IntVal
}
