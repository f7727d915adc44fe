package checks_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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
	{name: "dev", external: func(s string) bool { return s == "accrue-dev-credentials" }},
	{name: "prod", external: func(s string) bool { return strings.HasSuffix(s, "-secrets") }},
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
			if r.GetGvk().Kind != "ServiceMonitor" {
				t.Errorf("%s: unexpected monitoring.coreos.com kind", id)
			}
			m.serviceMonitors = append(m.serviceMonitors, u)
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
		})
	}
}

func checkPods(t *testing.T, m manifests, progs map[string]checks.Program) {
	for _, w := range m.workloads(progs) {
		ps := w.pod.Spec
		id := w.kind + " " + w.name
		psc := ps.SecurityContext
		if psc == nil {
			psc = &corev1.PodSecurityContext{}
		}
		if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod seccompProfile is not RuntimeDefault (the namespace enforces the restricted standard)", id)
		}
		if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
			t.Errorf("%s: mounts a service account token it never uses", id)
		}
		for _, c := range append(slices.Clone(ps.InitContainers), ps.Containers...) {
			cid := fmt.Sprintf("%s container %s", id, c.Name)
			sc := c.SecurityContext
			if sc == nil {
				sc = &corev1.SecurityContext{}
			}
			nonRoot := psc.RunAsNonRoot
			if sc.RunAsNonRoot != nil {
				nonRoot = sc.RunAsNonRoot
			}
			uid := psc.RunAsUser
			if sc.RunAsUser != nil {
				uid = sc.RunAsUser
			}
			if nonRoot == nil || !*nonRoot {
				t.Errorf("%s: runAsNonRoot is not true", cid)
			}
			if uid != nil && *uid == 0 {
				t.Errorf("%s: runs as uid 0", cid)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s: readOnlyRootFilesystem is not true", cid)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s: allowPrivilegeEscalation is not false", cid)
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("%s: capabilities do not drop ALL", cid)
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
					t.Errorf("%s: no %s request", cid, r)
				}
				if q, ok := c.Resources.Limits[r]; !ok || q.IsZero() {
					t.Errorf("%s: no %s limit", cid, r)
				}
			}
			if _, tag, ok := strings.Cut(c.Image[strings.LastIndex(c.Image, "/")+1:], ":"); !ok || tag == "" || tag == "latest" {
				if !strings.Contains(c.Image, "@sha256:") {
					t.Errorf("%s: image %s has no tag (or :latest)", cid, c.Image)
				}
			}
			if w.program != "" && !strings.HasSuffix(strings.Split(c.Image, ":")[0], "/"+w.program) {
				t.Errorf("%s: runs image %s, but is labelled app.kubernetes.io/name=%s", cid, c.Image, w.program)
			}
			for _, vm := range c.VolumeMounts {
				if !slices.ContainsFunc(ps.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name }) {
					t.Errorf("%s: mounts volume %s, which the pod does not declare", cid, vm.Name)
				}
			}
		}
	}
}

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
			checkUpstreams(t, m, w, env, progs)
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

func checkDeployments(t *testing.T, m manifests, progs map[string]checks.Program) {
	hpaTargets := map[string]autoscalingv2.HorizontalPodAutoscaler{}
	for _, h := range m.hpas {
		if _, ok := m.deployment(h.Spec.ScaleTargetRef.Name); h.Spec.ScaleTargetRef.Kind != "Deployment" || !ok {
			t.Errorf("HorizontalPodAutoscaler %s: scales %s %s, which is not rendered", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
		hpaTargets[h.Spec.ScaleTargetRef.Name] = h
	}
	services, err := checks.Services(root(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.deployments {
		id := "Deployment " + d.Name
		ps := d.Spec.Template.Spec
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("%s: its selector does not match its pods (%v)", id, err)
		}
		// Probes.
		prog := d.Spec.Template.Labels["app.kubernetes.io/name"]
		for _, c := range ps.Containers {
			cid := fmt.Sprintf("%s container %s", id, c.Name)
			probes := map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe}
			for kind, p := range probes {
				if p == nil {
					t.Errorf("%s: no %s probe", cid, kind)
					continue
				}
				switch {
				case p.GRPC != nil:
					if !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.ContainerPort == p.GRPC.Port }) {
						t.Errorf("%s: %s probe on port %d, which the container does not declare", cid, kind, p.GRPC.Port)
					}
				case p.HTTPGet != nil:
					if resolvePort(ps, p.HTTPGet.Port) == 0 {
						t.Errorf("%s: %s probe on port %s, which the container does not declare", cid, kind, p.HTTPGet.Port.String())
					}
				}
			}
			switch {
			case slices.Contains(services, prog) && c.Name == prog:
				grpc := containerPort(ps, "grpc")
				for kind, p := range probes {
					if p != nil && (p.GRPC == nil || p.GRPC.Port != grpc) {
						t.Errorf("%s: %s probe is not the gRPC health check on port %d", cid, kind, grpc)
					}
				}
				if p := c.LivenessProbe; p != nil && p.GRPC != nil && (p.GRPC.Service == nil || *p.GRPC.Service != "liveness") {
					t.Errorf("%s: the liveness probe must ask the \"liveness\" health service: the default one goes NOT_SERVING while Postgres or Redis is down, and a restart cures neither", cid)
				}
			case prog == "gateway" && c.Name == prog:
				for kind, path := range map[string]string{"readiness": "/readyz", "liveness": "/healthz", "startup": "/healthz"} {
					if p := probes[kind]; p != nil && (p.HTTPGet == nil || p.HTTPGet.Path != path) {
						t.Errorf("%s: %s probe is not GET %s", cid, kind, path)
					}
				}
			}
		}
		// Disruption budget.
		var pdb *policyv1.PodDisruptionBudget
		for i, p := range m.pdbs {
			s, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
			if err == nil && p.Namespace == d.Namespace && s.Matches(labels.Set(d.Spec.Template.Labels)) {
				pdb = &m.pdbs[i]
			}
		}
		replicas := int32(1)
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		if h, ok := hpaTargets[d.Name]; ok {
			replicas = *h.Spec.MinReplicas
			if d.Spec.Replicas != nil {
				t.Errorf("%s: sets replicas, but HorizontalPodAutoscaler %s owns the count (each apply would reset it)", id, h.Name)
			}
		}
		switch {
		case pdb == nil:
			t.Errorf("%s: no PodDisruptionBudget selects its pods", id)
		case pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.Int && pdb.Spec.MinAvailable.IntVal >= replicas:
			t.Errorf("%s: PodDisruptionBudget %s minAvailable %d with %d replica(s) blocks every node drain", id, pdb.Name, pdb.Spec.MinAvailable.IntVal, replicas)
		case pdb.Spec.MaxUnavailable != nil && pdb.Spec.MaxUnavailable.Type == intstr.Int && pdb.Spec.MaxUnavailable.IntVal < 1:
			t.Errorf("%s: PodDisruptionBudget %s maxUnavailable 0 blocks every node drain", id, pdb.Name)
		}
		// Migrations run as a Job of the same image before the service.
		if slices.Contains(services, prog) {
			migrated := slices.ContainsFunc(m.jobs, func(j batchv1.Job) bool {
				c := j.Spec.Template.Spec.Containers
				return len(c) == 1 && c[0].Image == ps.Containers[0].Image && slices.Equal(append(c[0].Command, c[0].Args...), []string{"migrate"}) &&
					j.Spec.Template.Spec.RestartPolicy == corev1.RestartPolicyNever
			})
			if !migrated {
				t.Errorf("%s: no Job runs `%s migrate` with image %s", id, prog, ps.Containers[0].Image)
			}
		}
	}
	// The posting workers scale on CPU and on their stream's lag.
	h, ok := hpaTargets["billing"]
	if !ok {
		t.Error("no HorizontalPodAutoscaler scales billing, where the posting workers run")
		return
	}
	var cpu, lag bool
	for _, mt := range h.Spec.Metrics {
		cpu = cpu || mt.Type == autoscalingv2.ResourceMetricSourceType && mt.Resource.Name == corev1.ResourceCPU
		lag = lag || mt.Type == autoscalingv2.ExternalMetricSourceType && mt.External.Metric.Name == "accrue_stream_lag"
	}
	if !cpu || !lag {
		t.Errorf("HorizontalPodAutoscaler %s: scales on CPU %v, on accrue_stream_lag %v; want both", h.Name, cpu, lag)
	}
}

// peer is one end of a connection for the network policy check: a pod (namespace and labels) or
// an address outside the cluster.
type peer struct {
	ns       string
	labels   map[string]string
	external bool
}

// checkNetwork evaluates the NetworkPolicies the way a cluster would, and compares what they
// allow with what the code needs: a program calls another when it reads ACCRUE_<OTHER>_ADDR,
// Postgres when it reads ACCRUE_DATABASE_URL, Redis when it reads ACCRUE_REDIS_ADDR; Prometheus
// scrapes every metrics port; the gateway takes HTTP from anyone; everything resolves DNS.
// Any other connection between pods of the namespace must be denied.
func checkNetwork(t *testing.T, m manifests, progs map[string]checks.Program) {
	ns := m.namespace
	for _, p := range m.policies {
		for _, r := range p.Spec.Ingress {
			namedPorts(t, p.Name, r.Ports)
		}
		for _, r := range p.Spec.Egress {
			namedPorts(t, p.Name, r.Ports)
		}
	}
	denyAll := map[networkingv1.PolicyType]bool{}
	for _, p := range m.policies {
		if len(p.Spec.PodSelector.MatchLabels)+len(p.Spec.PodSelector.MatchExpressions) == 0 {
			for _, ty := range p.Spec.PolicyTypes {
				if ty == networkingv1.PolicyTypeIngress && len(p.Spec.Ingress) == 0 || ty == networkingv1.PolicyTypeEgress && len(p.Spec.Egress) == 0 {
					denyAll[ty] = true
				}
			}
		}
	}
	if !denyAll[networkingv1.PolicyTypeIngress] || !denyAll[networkingv1.PolicyTypeEgress] {
		t.Errorf("no default-deny NetworkPolicy for both ingress and egress (have %v)", denyAll)
	}
	type target struct {
		w     workload
		port  int32
		proto corev1.Protocol
	}
	var targets []target
	ws := m.workloads(progs)
	for _, w := range ws {
		for _, c := range w.pod.Spec.Containers {
			for _, p := range c.Ports {
				proto := p.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				targets = append(targets, target{w, p.ContainerPort, proto})
			}
		}
	}
	prometheus := peer{ns: "monitoring", labels: map[string]string{"app.kubernetes.io/name": "prometheus"}}
	outsider := peer{ns: "ingress", labels: map[string]string{"app.kubernetes.io/name": "ingress-controller"}}
	dns := peer{ns: "kube-system", labels: map[string]string{"k8s-app": "kube-dns"}}
	for _, src := range ws {
		from := peer{ns: ns, labels: src.pod.Labels}
		reads := progs[src.program].Env
		for _, dst := range targets {
			to := peer{ns: ns, labels: dst.w.pod.Labels}
			name := dst.w.pod.Labels["app.kubernetes.io/name"]
			want := false
			if src.program != "" {
				_, calls := reads["ACCRUE_"+strings.ToUpper(name)+"_ADDR"]
				_, db := reads["ACCRUE_DATABASE_URL"]
				_, rds := reads["ACCRUE_REDIS_ADDR"]
				want = calls && dst.port == containerPort(dst.w.pod.Spec, "grpc") && dst.w.kind == "Deployment" ||
					db && name == "postgres" && dst.port == 5432 || rds && name == "redis" && dst.port == 6379
			}
			if got := allowed(m.policies, ns, from, to, dst.port, dst.proto); got != want {
				t.Errorf("%s %s → %s %s port %d: allowed %v, want %v", src.kind, src.name, dst.w.kind, dst.w.name, dst.port, got, want)
			}
		}
		// Outside the cluster: managed Postgres and Redis, the identity provider.
		if src.program != "" {
			_, db := reads["ACCRUE_DATABASE_URL"]
			_, rds := reads["ACCRUE_REDIS_ADDR"]
			_, inClusterDB := m.deployment("postgres")
			_, inClusterRedis := m.deployment("redis")
			for port, want := range map[int32]bool{5432: db && !inClusterDB, 6379: rds && !inClusterRedis} {
				if got := allowed(m.policies, ns, from, peer{external: true}, port, corev1.ProtocolTCP); got != want {
					t.Errorf("%s %s → outside the cluster port %d: allowed %v, want %v", src.kind, src.name, port, got, want)
				}
			}
		}
		for _, proto := range []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP} {
			if !allowed(m.policies, ns, from, dns, 53, proto) {
				t.Errorf("%s %s: cannot resolve names (%s 53 to kube-dns)", src.kind, src.name, proto)
			}
		}
	}
	for _, dst := range targets {
		if dst.w.program == "" || dst.w.kind != "Deployment" {
			continue
		}
		to := peer{ns: ns, labels: dst.w.pod.Labels}
		metrics := dst.port == containerPort(dst.w.pod.Spec, "metrics") || dst.w.program == "gateway"
		if got := allowed(m.policies, ns, prometheus, to, dst.port, dst.proto); got != metrics {
			t.Errorf("Prometheus → %s port %d: allowed %v, want %v", dst.w.name, dst.port, got, metrics)
		}
		public := dst.w.program == "gateway"
		if got := allowed(m.policies, ns, outsider, to, dst.port, dst.proto); got != public {
			t.Errorf("a client outside the namespace → %s port %d: allowed %v, want %v", dst.w.name, dst.port, got, public)
		}
	}
}

func namedPorts(t *testing.T, policy string, ports []networkingv1.NetworkPolicyPort) {
	for _, p := range ports {
		if p.Port != nil && p.Port.Type == intstr.String {
			t.Errorf("NetworkPolicy %s: named port %s: use numbers, which the check can follow", policy, p.Port.StrVal)
		}
	}
}

// allowed reports whether the policies of namespace ns let from open a connection to to:port.
func allowed(policies []networkingv1.NetworkPolicy, ns string, from, to peer, port int32, proto corev1.Protocol) bool {
	return side(policies, ns, from, to, port, proto, networkingv1.PolicyTypeEgress) &&
		side(policies, ns, to, from, port, proto, networkingv1.PolicyTypeIngress)
}

// side checks one end: self's egress towards other, or self's ingress from other. Ends outside
// namespace ns are governed by policies the checks do not see, and count as open.
func side(policies []networkingv1.NetworkPolicy, ns string, self, other peer, port int32, proto corev1.Protocol, ty networkingv1.PolicyType) bool {
	if self.external || self.ns != ns {
		return true
	}
	isolated := false
	for _, p := range policies {
		if !slices.Contains(p.Spec.PolicyTypes, ty) || !selects(&p.Spec.PodSelector, self.labels) {
			continue
		}
		isolated = true
		if ty == networkingv1.PolicyTypeEgress {
			for _, r := range p.Spec.Egress {
				if peersMatch(r.To, p.Namespace, other) && portsMatch(r.Ports, port, proto) {
					return true
				}
			}
		} else {
			for _, r := range p.Spec.Ingress {
				if peersMatch(r.From, p.Namespace, other) && portsMatch(r.Ports, port, proto) {
					return true
				}
			}
		}
	}
	return !isolated
}

func selects(sel *metav1.LabelSelector, l map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(l))
}

func peersMatch(peers []networkingv1.NetworkPolicyPeer, policyNS string, other peer) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		if p.IPBlock != nil {
			// Any address of an ipBlock stands for the outside world; pod addresses are not
			// matched (the common CNI behaviour).
			if other.external {
				return true
			}
			continue
		}
		if other.external {
			continue
		}
		nsOK := other.ns == policyNS
		if p.NamespaceSelector != nil {
			nsOK = selects(p.NamespaceSelector, map[string]string{"kubernetes.io/metadata.name": other.ns})
		}
		if nsOK && (p.PodSelector == nil || selects(p.PodSelector, other.labels)) {
			return true
		}
	}
	return false
}

func portsMatch(ports []networkingv1.NetworkPolicyPort, port int32, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pp != proto {
			continue
		}
		if p.Port == nil {
			return true
		}
		end := p.Port.IntVal
		if p.EndPort != nil {
			end = *p.EndPort
		}
		if p.Port.Type == intstr.Int && port >= p.Port.IntVal && port <= end {
			return true
		}
	}
	return false
}

// checkMonitoring: where a ServiceMonitor is rendered, it scrapes every Accrue Service's metrics.
func checkMonitoring(t *testing.T, o overlay, m manifests) {
	if o.name == "prod" && len(m.serviceMonitors) == 0 {
		t.Error("prod renders no ServiceMonitor")
	}
	for _, sm := range m.serviceMonitors {
		spec, _ := sm["spec"].(map[string]any)
		sel, _ := spec["selector"].(map[string]any)
		matchLabels := map[string]string{}
		if ml, ok := sel["matchLabels"].(map[string]any); ok {
			for k, v := range ml {
				matchLabels[k] = fmt.Sprint(v)
			}
		}
		var ports []string
		eps, _ := spec["endpoints"].([]any)
		for _, e := range eps {
			if em, ok := e.(map[string]any); ok {
				ports = append(ports, fmt.Sprint(em["port"]))
			}
		}
		if len(matchLabels) == 0 || len(ports) == 0 {
			t.Errorf("ServiceMonitor: selector %v, endpoint ports %v", matchLabels, ports)
			continue
		}
		for _, s := range m.services {
			if s.Labels["app.kubernetes.io/part-of"] != "accrue" {
				continue
			}
			scraped := labels.SelectorFromSet(matchLabels).Matches(labels.Set(s.Labels)) &&
				slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return slices.Contains(ports, p.Name) })
			if !scraped {
				t.Errorf("ServiceMonitor does not scrape Service %s (labels %v, ports %v)", s.Name, s.Labels, s.Spec.Ports)
			}
		}
	}
}

// checkDatastores: an in-cluster Postgres creates every service's database, an in-cluster Redis
// keeps its append-only file.
func checkDatastores(t *testing.T, m manifests, progs map[string]checks.Program) {
	if d, ok := m.deployment("postgres"); ok {
		created := map[string]bool{}
		ps := d.Spec.Template.Spec
		for _, c := range ps.Containers {
			for _, vm := range c.VolumeMounts {
				if !strings.HasPrefix(vm.MountPath, "/docker-entrypoint-initdb.d") {
					continue
				}
				for _, v := range ps.Volumes {
					if v.Name == vm.Name && v.ConfigMap != nil {
						for _, sql := range m.configMaps[v.ConfigMap.Name].Data {
							for _, mt := range regexp.MustCompile(`(?i)CREATE\s+DATABASE\s+"?(\w+)`).FindAllStringSubmatch(sql, -1) {
								created[mt[1]] = true
							}
						}
					}
				}
			}
		}
		var missing []string
		for name, p := range progs {
			if _, ok := p.Env["ACCRUE_DATABASE_URL"]; ok && !created["accrue_"+name] {
				missing = append(missing, "accrue_"+name)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("Deployment postgres: no init script creates %v", missing)
		}
	}
	if d, ok := m.deployment("redis"); ok {
		c := d.Spec.Template.Spec.Containers[0]
		if !strings.Contains(strings.Join(append(c.Command, c.Args...), " "), "--appendonly yes") {
			t.Errorf("Deployment redis: %v does not turn on AOF persistence (--appendonly yes)", append(c.Command, c.Args...))
		}
	}
}
