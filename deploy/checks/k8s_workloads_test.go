package checks_test

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/accrue/accrue/deploy/checks"
)

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

func checkDeployments(t *testing.T, m manifests, progs map[string]checks.Program) {
	hpaTargets := map[string]autoscalingv2.HorizontalPodAutoscaler{}
	for _, h := range m.hpas {
		if _, ok := m.deployment(h.Spec.ScaleTargetRef.Name); h.Spec.ScaleTargetRef.Kind != "Deployment" || !ok {
			t.Errorf("HorizontalPodAutoscaler %s: scales %s %s, which is not rendered", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
		hpaTargets[h.Spec.ScaleTargetRef.Name] = h
	}
	services, err := checks.Deployables(root(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append(services, "gateway") {
		if _, ok := m.deployment(s); !ok {
			t.Errorf("no Deployment runs %s", s)
		}
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
				// The gRPC port requires mutual TLS, which the kubelet's gRPC probe cannot do: every
				// probe runs the binary's own health check, `<program> healthcheck [addr [service]]`.
				grpc := containerPort(ps, "grpc")
				healthcheck := []string{"/usr/local/bin/" + prog, "healthcheck"}
				for kind, p := range probes {
					if p == nil {
						continue
					}
					want := healthcheck
					if kind == "liveness" {
						want = append(slices.Clone(healthcheck), fmt.Sprintf(":%d", grpc), "liveness")
					}
					if p.Exec == nil || !slices.Equal(p.Exec.Command, want) {
						t.Errorf("%s: %s probe is not %q (the liveness probe must ask the \"liveness\" health service: the default one goes NOT_SERVING while Postgres or Redis is down, and a restart cures neither)", cid, kind, want)
					}
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
