package oracle

// ServiceEntries as destinations. Each exact host of an entry, on each of its ports, is a
// destination an application dials by that name, as the engine's simulate lists it (a host that is
// a Kubernetes Service's own name stays that Service). istiod builds
// the entry's clusters itself (pilot/pkg/serviceregistry/serviceentry); the oracle only decides what
// the application dials and which endpoints stand behind the host:
//
//   - the address: the entry's first address, else one outside the cluster (203.0.113.10, TEST-NET-3)
//     that a DNS lookup of an external name would give; the sidecar's wildcard listener of the port
//     takes it (pilot/pkg/networking/core/listener.go);
//   - the endpoints: the Pods a workloadSelector selects in the entry's namespace; else the entry's
//     own endpoints (a Pod's address is that Pod); else, for DNS resolution, the host itself, and for
//     NONE or STATIC resolution the dialled address: endpoints outside the mesh;
//   - the endpoint port: the endpoint's port of that name, else the port's targetPort, else its number
//     (pilot/pkg/serviceregistry/serviceentry/conversion.go).

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	networking "istio.io/api/networking/v1alpha3"
	"istio.io/istio/pkg/config/protocol"
)

// externalAddress is what an application dials for an entry without an address of its own.
const externalAddress = "203.0.113.10"

func entryPorts(in *inputs, w *world, podByIP map[string]*corev1.Pod) []*servicePort {
	var out []*servicePort
	serviceHosts := map[string]bool{}
	for _, s := range w.services {
		serviceHosts[s.Name+"."+s.Namespace+".svc.cluster.local"] = true
	}
	for _, c := range in.istio {
		se, ok := c.Spec.(*networking.ServiceEntry)
		if !ok || c.GroupVersionKind.Kind != "ServiceEntry" {
			continue
		}
		addr := externalAddress
		if len(se.Addresses) > 0 && !strings.Contains(se.Addresses[0], "/") {
			addr = se.Addresses[0]
		}
		for _, host := range se.Hosts {
			if strings.Contains(host, "*") || serviceHosts[host] {
				continue // a wildcard is nothing an application dials; a Service's own name stays the Service
			}
			for _, p := range se.Ports {
				proto := protocol.Parse(p.Protocol)
				if proto == protocol.UDP {
					continue
				}
				ref := &servicePort{label: host, host: host, addr: addr, number: int32(p.Number), payload: payloadFor(proto, int32(p.Number), false), proto: proto}
				ref.eps = entryEndpoints(c.Namespace, se, p, addr, host, w, podByIP)
				out = append(out, ref)
			}
		}
	}
	return out
}

func entryEndpoints(ns string, se *networking.ServiceEntry, p *networking.ServicePort, addr, host string, w *world, podByIP map[string]*corev1.Pod) []endpointRef {
	port := int(p.Number)
	if p.TargetPort != 0 {
		port = int(p.TargetPort)
	}
	var eps []endpointRef
	if sel := se.GetWorkloadSelector().GetLabels(); len(sel) > 0 {
		for _, wl := range w.workloads {
			for _, pod := range wl.pods {
				if pod.Namespace == ns && labels.SelectorFromSet(sel).Matches(labels.Set(pod.Labels)) {
					eps = append(eps, endpointRef{ip: pod.Status.PodIP, port: port, pod: pod, wl: wl})
				}
			}
		}
		return eps
	}
	for _, e := range se.Endpoints {
		epPort := port
		if n, ok := e.Ports[p.Name]; ok {
			epPort = int(n)
		}
		pod := podByIP[e.Address]
		eps = append(eps, endpointRef{ip: e.Address, port: epPort, pod: pod, wl: w.podOwner[pod]})
	}
	if len(eps) > 0 {
		return eps
	}
	if se.Resolution == networking.ServiceEntry_DNS || se.Resolution == networking.ServiceEntry_DNS_ROUND_ROBIN {
		return []endpointRef{{ip: host, port: port}}
	}
	return []endpointRef{{ip: addr, port: port}}
}
