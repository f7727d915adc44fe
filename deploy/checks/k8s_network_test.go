package checks_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/accrue/accrue/deploy/checks"
)

// peer is one end of a connection for the network policy check: a pod (namespace and labels) or
// an address outside the cluster.
type peer struct {
	ns       string
	labels   map[string]string
	external bool
}

// checkNetwork evaluates the NetworkPolicies the way a cluster would, and compares what they
// allow with what the code needs: a program calls another when it reads ACCRUE_<OTHER>_ADDR,
// Postgres when it reads ACCRUE_DATABASE_URL, Redis when it reads ACCRUE_REDIS_ADDR, and every
// program the OpenTelemetry collector's OTLP port; Prometheus scrapes every metrics port; the
// gateway takes HTTP from anyone; everything resolves DNS.
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
	worldEgress(t, m)
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
					db && name == "postgres" && dst.port == 5432 || rds && name == "redis" && dst.port == 6379 ||
					// Every program exports its spans (checkTracing).
					name == collectorService && dst.port == containerPort(dst.w.pod.Spec, "otlp-grpc")
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
		// The dispatcher posts to partners' endpoints on the internet (HTTPS, and HTTP where a
		// subscription says so); worldEgress checks the private ranges stay out.
		if src.program == checks.Dispatcher {
			for _, port := range []int32{443, 80} {
				if !allowed(m.policies, ns, from, peer{external: true}, port, corev1.ProtocolTCP) {
					t.Errorf("%s %s → outside the cluster port %d: denied, but it delivers webhooks there", src.kind, src.name, port)
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
		// The gateway's HTTP port is public; every metrics port (the gateway's admin listener
		// included) is Prometheus's only.
		public := dst.w.program == "gateway" && dst.port == containerPort(dst.w.pod.Spec, "http")
		metrics := dst.port == containerPort(dst.w.pod.Spec, "metrics") || public
		if got := allowed(m.policies, ns, prometheus, to, dst.port, dst.proto); got != metrics {
			t.Errorf("Prometheus → %s port %d: allowed %v, want %v", dst.w.name, dst.port, got, metrics)
		}
		if got := allowed(m.policies, ns, outsider, to, dst.port, dst.proto); got != public {
			t.Errorf("a client outside the namespace → %s port %d: allowed %v, want %v", dst.w.name, dst.port, got, public)
		}
	}
}

// privateRanges are the addresses an egress rule open to the whole internet must except: the
// second line of the dispatcher's SSRF guard (gateway/internal/dispatch/egress), so a webhook
// cannot reach the cluster's pods, nodes, cloud metadata (169.254.169.254) or the office network.
var privateRanges = map[string][]string{
	"0.0.0.0/0": {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"},
	"::/0":      {"::1/128", "fc00::/7", "fe80::/10"},
}

// worldEgress: every egress ipBlock of the whole internet that applies to the dispatcher's pods
// excepts every private, loopback and link-local range (policies add up: one without the
// exceptions, such as prod's idp-egress for the others, would open them all).
func worldEgress(t *testing.T, m manifests) {
	for _, p := range m.policies {
		if !selects(&p.Spec.PodSelector, map[string]string{"app.kubernetes.io/name": checks.Dispatcher}) {
			continue
		}
		for _, r := range p.Spec.Egress {
			for _, peer := range r.To {
				if peer.IPBlock == nil {
					continue
				}
				want, world := privateRanges[peer.IPBlock.CIDR]
				if !world {
					continue
				}
				for _, cidr := range want {
					if !slices.Contains(peer.IPBlock.Except, cidr) {
						t.Errorf("NetworkPolicy %s: egress to %s does not except %s", p.Name, peer.IPBlock.CIDR, cidr)
					}
				}
			}
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
	if _, ok := m.configMaps[dashboardConfigMap]; o.name == "prod" && (len(m.prometheusRules) != 1 || !ok) {
		t.Errorf("prod renders %d PrometheusRules (want 1, the alerts) and the dashboard ConfigMap %s: %v", len(m.prometheusRules), dashboardConfigMap, ok)
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
