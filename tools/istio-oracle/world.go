package oracle

// The cluster as the fake istiod sees it. The fake Kubernetes client runs no controllers, so the
// oracle does what the cluster would: it turns workload templates into Pods (deciding sidecar
// injection the way the injection webhook would), gives every Pod an IP and a Ready condition,
// gives every Service a ClusterIP, and writes the EndpointSlices of Services with a selector.

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/protocol"
)

// Label, annotation and container names, as istio/api defines them (label/labels.gen.go,
// annotation/annotations.gen.go) and the injection template uses them
// (manifests/charts/istio-control/istio-discovery/files/injection-template.yaml).
const (
	labelTLSMode        = "security.istio.io/tlsMode"
	labelSidecarInject  = "sidecar.istio.io/inject"
	labelRev            = "istio.io/rev"
	labelDataplaneMode  = "istio.io/dataplane-mode"
	nsLabelInjection    = "istio-injection"
	annoSidecarStatus   = "sidecar.istio.io/status"
	annoAmbientRedirect = "ambient.istio.io/redirection"
	annoExcludeInbound  = "traffic.sidecar.istio.io/excludeInboundPorts"
	annoIncludeInbound  = "traffic.sidecar.istio.io/includeInboundPorts"
	annoExcludeOutbound = "traffic.sidecar.istio.io/excludeOutboundPorts"
	annoIncludeOutbound = "traffic.sidecar.istio.io/includeOutboundPorts"
	annoExcludeRanges   = "traffic.sidecar.istio.io/excludeOutboundIPRanges"
	annoIncludeRanges   = "traffic.sidecar.istio.io/includeOutboundIPRanges"
	proxyContainer      = "istio-proxy"
)

// workload is one client or server workload: the Pods of one owner.
type workload struct {
	name, namespace, kind string
	pods                  []*corev1.Pod
	sidecar               bool
	ambient               bool
	// why the workload has (or has no) sidecar
	signal string
	// Istio's control plane never calls application services (the engine leaves it out as a client too).
	controlPlane bool
	gateway      bool
}

func (w *workload) id() string { return w.name + "." + w.namespace }

// endpointRef is one backend address of a Service port.
type endpointRef struct {
	ip   string
	port int // the endpoint (target) port
	pod  *corev1.Pod
	wl   *workload
}

type servicePort struct {
	// label names the destination as the engine does: name.namespace for a Service, the host for a
	// ServiceEntry.
	label string
	// host is the name the application dials (the Host header, the SNI).
	host string
	// addr is the address it dials: the ClusterIP or the entry's address; "" when each endpoint is
	// dialled at its own address (a headless Service).
	addr    string
	number  int32
	payload string
	proto   protocol.Instance
	eps     []endpointRef
}

type world struct {
	mesh       *meshconfig.MeshConfig
	namespaces map[string]*corev1.Namespace
	workloads  []*workload
	podOwner   map[*corev1.Pod]*workload
	services   []*corev1.Service
	slices     []*discoveryv1.EndpointSlice
	ports      []*servicePort
	notes      []string
}

// ipAlloc hands out addresses for objects the input gave none. They only label in-memory
// configuration; no packet is ever sent to them.
type ipAlloc struct {
	prefix string
	next   int
	used   map[string]bool
}

func (a *ipAlloc) get() string {
	for {
		a.next++
		ip := fmt.Sprintf("%s.%d.%d", a.prefix, a.next/250, a.next%250+1)
		if strings.Count(a.prefix, ".") == 2 {
			ip = fmt.Sprintf("%s.%d", a.prefix, a.next%250+1)
		}
		if !a.used[ip] {
			a.used[ip] = true
			return ip
		}
	}
}

func buildWorld(in *inputs) (*world, error) {
	w := &world{namespaces: map[string]*corev1.Namespace{}, podOwner: map[*corev1.Pod]*workload{}}
	w.notes = append(w.notes, in.notes...)
	for _, n := range in.namespaces {
		w.namespaces[n.Name] = n
	}
	ensureNS := func(n string) {
		if _, ok := w.namespaces[n]; !ok {
			w.namespaces[n] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}
		}
	}

	m, err := meshConfigOf(in)
	if err != nil {
		return nil, err
	}
	w.mesh = m

	used := map[string]bool{}
	for _, p := range in.pods {
		if p.Status.PodIP != "" {
			used[p.Status.PodIP] = true
		}
	}
	for _, s := range in.services {
		if s.Spec.ClusterIP != "" {
			used[s.Spec.ClusterIP] = true
		}
	}
	podIPs := &ipAlloc{prefix: "10.244", used: used}
	svcIPs := &ipAlloc{prefix: "10.96", used: used}
	extIPs := &ipAlloc{prefix: "192.0.2", used: used} // stand-ins for addresses outside the pod network (the API server)

	// Running Pods, grouped by owner.
	byKey := map[string]*workload{}
	for _, p := range in.pods {
		name, kind := ownerOf(p, in.replicaSets)
		k := p.Namespace + "/" + name
		wl := byKey[k]
		if wl == nil {
			wl = &workload{name: name, namespace: p.Namespace, kind: kind}
			byKey[k] = wl
			w.workloads = append(w.workloads, wl)
		}
		wl.pods = append(wl.pods, p)
	}
	for _, wl := range w.workloads {
		ensureNS(wl.namespace)
		wl.sidecar, wl.signal = podHasSidecar(wl.pods[0])
		wl.ambient = !wl.sidecar && ambientEnrolled(wl.pods[0], w.namespaces[wl.namespace])
	}
	// Templates without Pods: the Pods they ask for (at most 3), injected when the webhook would
	// inject them. The first one calls; the others are endpoints.
	for _, t := range in.templates {
		if t.kind == "ReplicaSet" && contains(t.owners, "Deployment") {
			continue
		}
		k := t.namespace + "/" + t.name
		if byKey[k] != nil {
			continue
		}
		ensureNS(t.namespace)
		ns := w.namespaces[t.namespace]
		wl := &workload{name: t.name, namespace: t.namespace, kind: t.kind}
		for i := range max(t.pods, 1) {
			pod := &corev1.Pod{
				TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
				ObjectMeta: *t.spec.ObjectMeta.DeepCopy(),
				Spec:       *t.spec.Spec.DeepCopy(),
			}
			pod.Name = fmt.Sprintf("%s-oracle-%d", t.name, i)
			pod.Namespace = t.namespace
			if has, sig := podHasSidecar(pod); has {
				wl.sidecar, wl.signal = true, sig
			} else if inject, why := injectionWanted(pod, ns); inject {
				injectSidecar(pod)
				wl.sidecar, wl.signal = true, "predicted injection: "+why
			} else {
				wl.signal = "no injection: " + why
			}
			wl.pods = append(wl.pods, pod)
		}
		wl.ambient = !wl.sidecar && ambientEnrolled(wl.pods[0], ns)
		byKey[k] = wl
		w.workloads = append(w.workloads, wl)
	}
	for _, wl := range w.workloads {
		for _, c := range wl.pods[0].Spec.Containers {
			if i := strings.Index(c.Image, "/pilot:"); i >= 0 {
				w.notes = append(w.notes, fmt.Sprintf("the input runs istiod %s (%s); the oracle computes with this module's Istio (%s-dev), "+
					"so version-specific behaviour of older releases is not reproduced", c.Image[i+len("/pilot:"):], wl.id(), strings.TrimSuffix(proxyVersion, ".0")))
			}
		}
		wl.controlPlane = isControlPlane(wl.pods[0].Labels)
		wl.gateway = isGateway(wl.pods[0].Labels)
		for _, p := range wl.pods {
			w.podOwner[p] = wl
			readyPod(p, podIPs)
		}
	}
	sort.Slice(w.workloads, func(i, j int) bool { return w.workloads[i].id() < w.workloads[j].id() })

	// Services and their endpoints.
	given := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range in.endpointSlices {
		svc := s.Labels[discoveryv1.LabelServiceName]
		given[s.Namespace+"/"+svc] = append(given[s.Namespace+"/"+svc], s)
	}
	podByIP := map[string]*corev1.Pod{}
	for _, wl := range w.workloads {
		for _, p := range wl.pods {
			podByIP[p.Status.PodIP] = p
		}
	}
	for _, s := range in.services {
		ensureNS(s.Namespace)
		defaultService(s, svcIPs)
		w.services = append(w.services, s)
		if s.Spec.Type == corev1.ServiceTypeExternalName {
			w.notes = append(w.notes, fmt.Sprintf("service %s.%s: ExternalName services are left out", s.Name, s.Namespace))
			continue
		}
		slices := given[s.Namespace+"/"+s.Name]
		switch {
		case len(slices) > 0:
		case len(s.Spec.Selector) > 0:
			slices = w.slicesFromPods(s)
		default:
			// No selector and no EndpointSlice: one endpoint outside the pod network, as for the
			// API server behind default/kubernetes.
			slices = []*discoveryv1.EndpointSlice{externalSlice(s, extIPs.get())}
		}
		w.slices = append(w.slices, slices...)
		for _, sp := range s.Spec.Ports {
			if sp.Protocol != corev1.ProtocolTCP {
				continue // the engine judges TCP ports only
			}
			payload, proto := payloadOf(s, sp)
			addr := s.Spec.ClusterIP
			if addr == corev1.ClusterIPNone {
				addr = "" // headless: the application dials the endpoint itself
			}
			ref := &servicePort{
				label: s.Name + "." + s.Namespace, host: fmt.Sprintf("%s.%s.svc.cluster.local", s.Name, s.Namespace),
				addr: addr, number: sp.Port, payload: payload, proto: proto,
			}
			for _, sl := range slices {
				for _, p := range sl.Ports {
					if p.Name == nil || *p.Name != sp.Name || p.Port == nil {
						continue
					}
					for _, e := range sl.Endpoints {
						for _, a := range e.Addresses {
							pod := podByIP[a]
							ref.eps = append(ref.eps, endpointRef{ip: a, port: int(*p.Port), pod: pod, wl: w.podOwner[pod]})
						}
					}
				}
			}
			w.ports = append(w.ports, ref)
		}
	}
	w.ports = append(w.ports, entryPorts(in, w, podByIP)...)
	sort.Slice(w.ports, func(i, j int) bool {
		a, b := w.ports[i], w.ports[j]
		if a.label != b.label {
			return a.label < b.label
		}
		return a.number < b.number
	})
	return w, nil
}

// kubeObjects are the objects for the fake Kubernetes client.
func (w *world) kubeObjects() []runtime.Object {
	var out []runtime.Object
	names := make([]string, 0, len(w.namespaces))
	for n := range w.namespaces {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, w.namespaces[n])
	}
	for _, s := range w.services {
		out = append(out, s)
	}
	for _, wl := range w.workloads {
		for _, p := range wl.pods {
			out = append(out, p)
		}
	}
	for _, s := range w.slices {
		out = append(out, s)
	}
	return out
}

// meshConfigOf reads the mesh config from the `istio` ConfigMap (key `mesh`), over Istio's defaults
// (pkg/config/mesh/mesh.go ApplyMeshConfigDefaults), as istiod does at start.
func meshConfigOf(in *inputs) (*meshconfig.MeshConfig, error) {
	for _, cm := range in.configMaps {
		if cm.Name == "istio" {
			m, err := mesh.ApplyMeshConfigDefaults(cm.Data["mesh"])
			if err != nil {
				return nil, fmt.Errorf("ConfigMap %s/istio: %v", cm.Namespace, err)
			}
			return m, nil
		}
	}
	return mesh.DefaultMeshConfig(), nil
}

// ownerOf names the workload of a running Pod: the Deployment behind its ReplicaSet, its
// StatefulSet or DaemonSet, the CronJob behind its Job, else the Pod itself.
func ownerOf(p *corev1.Pod, rs map[string]*appsv1.ReplicaSet) (string, string) {
	var ref *metav1.OwnerReference
	for i := range p.OwnerReferences {
		if p.OwnerReferences[i].Controller != nil && *p.OwnerReferences[i].Controller {
			ref = &p.OwnerReferences[i]
		}
	}
	if ref == nil && len(p.OwnerReferences) > 0 {
		ref = &p.OwnerReferences[0]
	}
	if ref == nil {
		return p.Name, "Pod"
	}
	switch ref.Kind {
	case "ReplicaSet":
		if r := rs[p.Namespace+"/"+ref.Name]; r != nil {
			for _, o := range r.OwnerReferences {
				if o.Kind == "Deployment" {
					return o.Name, "Deployment"
				}
			}
		}
		if h := p.Labels["pod-template-hash"]; h != "" && strings.HasSuffix(ref.Name, "-"+h) {
			return strings.TrimSuffix(ref.Name, "-"+h), "Deployment"
		}
		return ref.Name, "ReplicaSet"
	case "Job":
		// Jobs of a CronJob are named <cronjob>-<scheduled time in minutes>.
		if i := strings.LastIndex(ref.Name, "-"); i > 0 {
			if _, err := strconv.Atoi(ref.Name[i+1:]); err == nil && len(ref.Name)-i-1 >= 8 {
				return ref.Name[:i], "CronJob"
			}
		}
		return ref.Name, "Job"
	}
	return ref.Name, ref.Kind
}

// podHasSidecar: a running Pod has a sidecar if it has an istio-proxy container (classic, or native:
// an init container with restartPolicy Always), or the injector's status annotation
// (pkg/kube/inject/webhook.go writes sidecar.istio.io/status; istio-semantics.md §6.1).
func podHasSidecar(p *corev1.Pod) (bool, string) {
	for _, c := range p.Spec.Containers {
		if c.Name == proxyContainer {
			return true, "istio-proxy container"
		}
	}
	for _, c := range p.Spec.InitContainers {
		if c.Name == proxyContainer && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			return true, "native sidecar istio-proxy"
		}
	}
	if p.Annotations[annoSidecarStatus] != "" {
		return true, "sidecar.istio.io/status annotation"
	}
	return false, "no sidecar"
}

// injectionWanted decides whether the injection webhook would inject a new Pod: first the
// MutatingWebhookConfiguration's namespace and object selectors
// (manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml, default revision,
// without enableNamespacesByDefault), then the webhook's own check (pkg/kube/inject/inject.go
// injectRequired: never hostNetwork Pods or kube-system/kube-public; the pod label
// sidecar.istio.io/inject over the annotation of that name; default policy "enabled").
func injectionWanted(p *corev1.Pod, ns *corev1.Namespace) (bool, string) {
	nsl := ns.Labels
	podLabel, podLabelSet := p.Labels[labelSidecarInject]
	matched := ""
	if v, ok := nsl[nsLabelInjection]; ok {
		if v != "enabled" {
			return false, "namespace " + nsLabelInjection + "=" + v
		}
		if podLabel == "false" {
			return false, "pod label " + labelSidecarInject + "=false"
		}
		matched = "namespace " + nsLabelInjection + "=enabled"
	} else if v, ok := nsl[labelRev]; ok {
		if podLabel == "false" {
			return false, "pod label " + labelSidecarInject + "=false"
		}
		matched = "namespace " + labelRev + "=" + v
	} else if podLabel == "true" {
		matched = "pod label " + labelSidecarInject + "=true"
	} else if v, ok := p.Labels[labelRev]; ok && podLabel != "false" {
		matched = "pod label " + labelRev + "=" + v
	} else {
		return false, "namespace not labelled for injection"
	}
	if p.Spec.HostNetwork {
		return false, "hostNetwork Pods are never injected"
	}
	if p.Namespace == "kube-system" || p.Namespace == "kube-public" {
		return false, "namespace " + p.Namespace + " is never injected"
	}
	sel := p.Annotations[labelSidecarInject]
	if podLabelSet {
		sel = podLabel
	}
	if sel == "false" {
		return false, labelSidecarInject + "=false"
	}
	return true, matched
}

// injectSidecar marks a Pod the way the injector would, as far as istiod reads it: the tlsMode
// label (the injection template keeps an existing value, else "istio"), an istio-proxy container
// and the status annotation.
func injectSidecar(p *corev1.Pod) {
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	if p.Labels[labelTLSMode] == "" {
		p.Labels[labelTLSMode] = "istio"
	}
	p.Annotations[annoSidecarStatus] = `{"containers":["istio-proxy"],"initContainers":["istio-init"]}`
	p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: proxyContainer, Image: "proxyv2"})
}

// ambientEnrolled: istio-cni's default enablement selectors (manifests/charts/istio-cni/values.yaml,
// cni/pkg/util/enablement_selector.go). The oracle does not model ztunnel; ambient pairs are left out.
func ambientEnrolled(p *corev1.Pod, ns *corev1.Namespace) bool {
	if p.Spec.HostNetwork {
		return false
	}
	if p.Annotations[annoAmbientRedirect] == "enabled" || p.Labels[labelDataplaneMode] == "ambient" {
		return true
	}
	return ns.Labels[labelDataplaneMode] == "ambient" && p.Labels[labelDataplaneMode] != "none"
}

// isControlPlane mirrors the engine (src/core/mesh/membership.ts isControlPlane).
func isControlPlane(l map[string]string) bool {
	if l["app"] == "istiod" {
		return true
	}
	switch l["istio"] {
	case "pilot", "citadel", "galley", "sidecar-injector", "mixer":
		return true
	}
	return false
}

func isGateway(l map[string]string) bool {
	return l["istio"] == "ingressgateway" || l["istio"] == "egressgateway" || l["gateway.istio.io/managed"] != ""
}

// readyPod gives a Pod what the kubelet and the scheduler would: an IP, phase Running and a Ready
// condition (istiod drops Pods without an IP or not Ready from its endpoints:
// pilot/pkg/serviceregistry/kube/controller/pod.go).
func readyPod(p *corev1.Pod, ips *ipAlloc) {
	if p.Status.PodIP == "" {
		p.Status.PodIP = ips.get()
	}
	p.Status.PodIPs = []corev1.PodIP{{IP: p.Status.PodIP}}
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if p.Spec.ServiceAccountName == "" {
		p.Spec.ServiceAccountName = "default"
	}
}

// defaultService applies the API server's defaults that matter here: TCP, targetPort = port, and a
// ClusterIP unless the Service is headless.
func defaultService(s *corev1.Service, ips *ipAlloc) {
	for i := range s.Spec.Ports {
		p := &s.Spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0 {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if s.Spec.Type == "" {
		s.Spec.Type = corev1.ServiceTypeClusterIP
	}
	if s.Spec.ClusterIP == "" && s.Spec.Type != corev1.ServiceTypeExternalName {
		s.Spec.ClusterIP = ips.get()
	}
	if s.Spec.ClusterIP != "" && len(s.Spec.ClusterIPs) == 0 {
		s.Spec.ClusterIPs = []string{s.Spec.ClusterIP}
	}
}

// slicesFromPods does the EndpointSlice controller's work: one slice per selected Pod, its ports
// the Service's targetPorts resolved on that Pod (named ports by the Pod's container ports).
func (w *world) slicesFromPods(s *corev1.Service) []*discoveryv1.EndpointSlice {
	sel := labels.SelectorFromSet(s.Spec.Selector)
	var out []*discoveryv1.EndpointSlice
	for _, wl := range w.workloads {
		if wl.namespace != s.Namespace {
			continue
		}
		for _, p := range wl.pods {
			if !sel.Matches(labels.Set(p.Labels)) {
				continue
			}
			var ports []discoveryv1.EndpointPort
			for _, sp := range s.Spec.Ports {
				n, ok := resolveTargetPort(p, sp.TargetPort)
				if !ok {
					w.notes = append(w.notes, fmt.Sprintf("service %s.%s port %d: Pod %s has no container port %q",
						s.Name, s.Namespace, sp.Port, p.Name, sp.TargetPort.String()))
					continue
				}
				ports = append(ports, discoveryv1.EndpointPort{
					Name: ptrTo(sp.Name), Port: ptrTo(n), Protocol: ptrTo(sp.Protocol), AppProtocol: sp.AppProtocol,
				})
			}
			out = append(out, &discoveryv1.EndpointSlice{
				TypeMeta: metav1.TypeMeta{Kind: "EndpointSlice", APIVersion: "discovery.k8s.io/v1"},
				ObjectMeta: metav1.ObjectMeta{
					Name: s.Name + "-" + p.Name, Namespace: s.Namespace,
					Labels: map[string]string{discoveryv1.LabelServiceName: s.Name, discoveryv1.LabelManagedBy: "mtls-guard-oracle"},
				},
				AddressType: discoveryv1.AddressTypeIPv4,
				Endpoints: []discoveryv1.Endpoint{{
					Addresses:  []string{p.Status.PodIP},
					Conditions: discoveryv1.EndpointConditions{Ready: ptrTo(true), Serving: ptrTo(true), Terminating: ptrTo(false)},
					TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: p.Name, Namespace: p.Namespace},
				}},
				Ports: ports,
			})
		}
	}
	return out
}

func externalSlice(s *corev1.Service, ip string) *discoveryv1.EndpointSlice {
	var ports []discoveryv1.EndpointPort
	for _, sp := range s.Spec.Ports {
		n := sp.Port
		if sp.TargetPort.Type == intstr.Int {
			n = sp.TargetPort.IntVal
		}
		ports = append(ports, discoveryv1.EndpointPort{Name: ptrTo(sp.Name), Port: ptrTo(n), Protocol: ptrTo(sp.Protocol), AppProtocol: sp.AppProtocol})
	}
	return &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{Kind: "EndpointSlice", APIVersion: "discovery.k8s.io/v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: s.Name + "-external", Namespace: s.Namespace,
			Labels: map[string]string{discoveryv1.LabelServiceName: s.Name, discoveryv1.LabelManagedBy: "mtls-guard-oracle"},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{ip},
			Conditions: discoveryv1.EndpointConditions{Ready: ptrTo(true), Serving: ptrTo(true), Terminating: ptrTo(false)},
		}},
		Ports: ports,
	}
}

func resolveTargetPort(p *corev1.Pod, tp intstr.IntOrString) (int32, bool) {
	if tp.Type == intstr.Int {
		return tp.IntVal, true
	}
	if n, err := strconv.Atoi(tp.StrVal); err == nil {
		return int32(n), true
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == tp.StrVal {
				return cp.ContainerPort, true
			}
		}
	}
	return 0, false
}

func ptrTo[T any](v T) *T { return &v }

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// portList reads a comma-separated port list annotation (traffic.sidecar.istio.io/*Ports), which the
// injection template hands to istio-iptables (-b, -d, -o, -q) as it is.
func portList(p *corev1.Pod, anno string) map[int]bool {
	out := map[int]bool{}
	for _, s := range strings.Split(p.Annotations[anno], ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			out[n] = true
		}
	}
	return out
}

// rangeList reads a comma-separated CIDR list annotation (traffic.sidecar.istio.io/*OutboundIPRanges);
// "*" stands for every address. Entries that are not CIDRs are dropped (the injector's validation,
// pkg/kube/inject/validate.go, refuses such a Pod).
func rangeList(p *corev1.Pod, anno string) (all bool, nets []*net.IPNet) {
	for _, s := range strings.Split(p.Annotations[anno], ",") {
		s = strings.TrimSpace(s)
		if s == "*" {
			all = true
			continue
		}
		if _, n, err := net.ParseCIDR(s); err == nil {
			nets = append(nets, n)
		}
	}
	return all, nets
}

// outboundBypass says why the injected iptables rules let an application's connection to addr:port
// leave without its sidecar, or "" when the sidecar captures it. The ISTIO_OUTPUT chain is read in
// the order tools/istio-iptables/pkg/capture/run.go appends it: excluded ports return first, then
// excluded ranges, then included ports redirect, then included ranges redirect (default "*", the
// injector's values.global.proxy.includeIPRanges); whatever is left returns, uncaptured.
func outboundBypass(p *corev1.Pod, port int, addr string) string {
	if portList(p, annoExcludeOutbound)[port] {
		return fmt.Sprintf("port %d is in %s: the sidecar is bypassed", port, annoExcludeOutbound)
	}
	ip := net.ParseIP(addr)
	_, excluded := rangeList(p, annoExcludeRanges)
	for _, n := range excluded {
		if ip != nil && n.Contains(ip) {
			return fmt.Sprintf("%s is in %s (%s): the sidecar is bypassed", addr, annoExcludeRanges, n)
		}
	}
	if portList(p, annoIncludeOutbound)[port] {
		return ""
	}
	if _, set := p.Annotations[annoIncludeRanges]; !set {
		return ""
	}
	all, included := rangeList(p, annoIncludeRanges)
	if all {
		return ""
	}
	for _, n := range included {
		if ip != nil && n.Contains(ip) {
			return ""
		}
	}
	return fmt.Sprintf("%s is outside %s: the sidecar is bypassed", addr, annoIncludeRanges)
}

// inboundBypass says why connections to a container port reach the application without its
// sidecar, or "" when they are captured: handleInboundPortsInclude in run.go redirects the ports of
// includeInboundPorts, or with "*" (the default) every port but those of excludeInboundPorts.
func inboundBypass(p *corev1.Pod, port int) string {
	include, set := p.Annotations[annoIncludeInbound]
	if !set || strings.TrimSpace(include) == "*" {
		if portList(p, annoExcludeInbound)[port] {
			return fmt.Sprintf("bypasses its sidecar on port %d (%s)", port, annoExcludeInbound)
		}
		return ""
	}
	if portList(p, annoIncludeInbound)[port] {
		return ""
	}
	return fmt.Sprintf("bypasses its sidecar on port %d (not in %s)", port, annoIncludeInbound)
}
