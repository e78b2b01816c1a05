package oracle

// Reading the input manifests: Istio objects go through Istio's own parser (crd.ParseInputs, which
// also validates them the way istiod's webhook would), Kubernetes objects through client-go's scheme.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"

	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pkg/config"
)

// inputs holds the objects of one input, by kind.
type inputs struct {
	istio          []config.Config
	namespaces     []*corev1.Namespace
	services       []*corev1.Service
	pods           []*corev1.Pod
	endpointSlices []*discoveryv1.EndpointSlice
	configMaps     []*corev1.ConfigMap
	// Pod templates of workload controllers (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob).
	templates []template
	// ReplicaSets by namespace/name, to find the Deployment that owns a Pod.
	replicaSets map[string]*appsv1.ReplicaSet
	notes       []string
	// The creation time of Istio objects that name none: the input is applied now, all in one second.
	now time.Time
}

// template is the pod template of a workload controller.
type template struct {
	kind, name, namespace string
	owners                []string // kinds of the controller's own owners (a ReplicaSet owned by a Deployment is skipped)
	spec                  corev1.PodTemplateSpec
	// pods is how many Pods the oracle makes of it: spec.replicas (1 when unset or 0), at most 3;
	// 2 for a DaemonSet (one per node of a small cluster).
	pods int
}

// podsOf bounds a controller's replica count to the Pods the oracle makes.
func podsOf(replicas *int32) int {
	if replicas == nil || *replicas < 1 {
		return 1
	}
	return int(min(*replicas, 3))
}

// readInputs reads a file, or every .yaml/.yml/.json file under a directory (sorted by path).
func readInputs(path string) (*inputs, error) {
	var files []string
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			ext := strings.ToLower(filepath.Ext(p))
			if !d.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
	} else {
		files = []string{path}
	}
	in := newInputs()
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := in.addStream(f, raw); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func newInputs() *inputs {
	return &inputs{replicaSets: map[string]*appsv1.ReplicaSet{}, now: time.Now().UTC().Truncate(time.Second)}
}

// readInputsText reads one mesh given as YAML (or JSON) text; name labels its errors and notes.
func readInputsText(name string, raw []byte) (*inputs, error) {
	in := newInputs()
	if err := in.addStream(name, raw); err != nil {
		return nil, err
	}
	return in, nil
}

// addStream splits a YAML (or JSON) stream into documents and adds each one; `kind: *List` documents
// add their items.
func (in *inputs) addStream(file string, raw []byte) error {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for i := 0; ; i++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: document %d: %v", file, i+1, err)
		}
		if len(doc) == 0 {
			continue
		}
		where := fmt.Sprintf("%s: document %d", file, i+1)
		kind, _ := doc["kind"].(string)
		if items, ok := doc["items"].([]any); ok && strings.HasSuffix(kind, "List") {
			for j, it := range items {
				if m, ok := it.(map[string]any); ok {
					if err := in.addObject(fmt.Sprintf("%s item %d", where, j+1), m); err != nil {
						return err
					}
				}
			}
			continue
		}
		if err := in.addObject(where, doc); err != nil {
			return err
		}
	}
}

func (in *inputs) addObject(where string, obj map[string]any) error {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	group := ""
	if i := strings.Index(apiVersion, "/"); i >= 0 {
		group = apiVersion[:i]
	}
	js, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("%s: %v", where, err)
	}
	if strings.HasSuffix(group, "istio.io") {
		return in.addIstio(where, kind, js)
	}
	decoded, _, err := scheme.Codecs.UniversalDeserializer().Decode(js, nil, nil)
	if err != nil {
		in.notes = append(in.notes, fmt.Sprintf("%s: ignored %s %s (%v)", where, apiVersion, kind, err))
		return nil
	}
	in.addKube(where, decoded)
	return nil
}

// addIstio parses one Istio object with Istio's own parser. Objects that istiod does not know (for
// example the legacy authentication.istio.io Policy) or that fail its validation are left out, with a note.
func (in *inputs) addIstio(where, kind string, js []byte) error {
	cfgs, others, err := crd.ParseInputs(string(js))
	if err != nil {
		in.notes = append(in.notes, fmt.Sprintf("%s: %s left out: Istio rejects it: %v", where, kind, err))
		return nil
	}
	for _, o := range others {
		in.notes = append(in.notes, fmt.Sprintf("%s: %s %s/%s left out: not a kind this istiod reads",
			where, o.Kind, o.Namespace, o.Name))
	}
	for _, c := range cfgs {
		// A later object of the same kind, namespace and name replaces the earlier one, as applying
		// the files in order would.
		// The raw config string of the fake server leaves the domain empty, and a bare host in a
		// DestinationRule then resolves in the wrong namespace: istiod's own CRD client sets it.
		c.Domain = "cluster.local"
		if c.Namespace == "" {
			c.Namespace = "default" // what kubectl apply would do without -n
		}
		// Istio orders policies and rules by creation time, then name, then namespace
		// (pilot/pkg/model/config.go configCompareByCreationTime). An object without one would get
		// time.Now() from the fake server's in-memory store, one per object in input order
		// (pilot/pkg/config/memory/store.go Create), which no cluster does: kubectl apply of a set of
		// files creates them within a second, and the API server stamps seconds. So every object
		// without a timestamp is created now, in the same second, after every object that names one.
		if c.CreationTimestamp.IsZero() {
			c.CreationTimestamp = in.now
		}
		in.istio = replaceOrAppend(in.istio, c, func(a, b config.Config) bool {
			return a.GroupVersionKind.Kind == b.GroupVersionKind.Kind && a.Namespace == b.Namespace && a.Name == b.Name
		})
	}
	return nil
}

// replaceOrAppend replaces the first element that is the same object as x, else appends x.
func replaceOrAppend[T any](l []T, x T, same func(a, b T) bool) []T {
	for i := range l {
		if same(l[i], x) {
			l[i] = x
			return l
		}
	}
	return append(l, x)
}

func sameMeta[T interface {
	GetNamespace() string
	GetName() string
}](a, b T) bool {
	return a.GetNamespace() == b.GetNamespace() && a.GetName() == b.GetName()
}

func (in *inputs) addKube(where string, o runtime.Object) {
	ns := func(n string) string {
		if n == "" {
			return "default"
		}
		return n
	}
	switch x := o.(type) {
	case *corev1.Namespace:
		in.namespaces = replaceOrAppend(in.namespaces, x, sameMeta)
	case *corev1.Service:
		x.Namespace = ns(x.Namespace)
		in.services = replaceOrAppend(in.services, x, sameMeta)
	case *corev1.Pod:
		x.Namespace = ns(x.Namespace)
		in.pods = replaceOrAppend(in.pods, x, sameMeta)
	case *discoveryv1.EndpointSlice:
		x.Namespace = ns(x.Namespace)
		in.endpointSlices = replaceOrAppend(in.endpointSlices, x, sameMeta)
	case *corev1.ConfigMap:
		x.Namespace = ns(x.Namespace)
		in.configMaps = replaceOrAppend(in.configMaps, x, sameMeta)
	case *appsv1.Deployment:
		in.addTemplate("Deployment", x.Name, ns(x.Namespace), nil, x.Spec.Template, podsOf(x.Spec.Replicas))
	case *appsv1.StatefulSet:
		in.addTemplate("StatefulSet", x.Name, ns(x.Namespace), nil, x.Spec.Template, podsOf(x.Spec.Replicas))
	case *appsv1.DaemonSet:
		in.addTemplate("DaemonSet", x.Name, ns(x.Namespace), nil, x.Spec.Template, 2)
	case *appsv1.ReplicaSet:
		x.Namespace = ns(x.Namespace)
		in.replicaSets[x.Namespace+"/"+x.Name] = x
		var owners []string
		for _, r := range x.OwnerReferences {
			owners = append(owners, r.Kind)
		}
		in.addTemplate("ReplicaSet", x.Name, x.Namespace, owners, x.Spec.Template, podsOf(x.Spec.Replicas))
	case *batchv1.Job:
		in.addTemplate("Job", x.Name, ns(x.Namespace), nil, x.Spec.Template, 1)
	case *batchv1.CronJob:
		in.addTemplate("CronJob", x.Name, ns(x.Namespace), nil, x.Spec.JobTemplate.Spec.Template, 1)
	default:
		gvk := o.GetObjectKind().GroupVersionKind()
		in.notes = append(in.notes, fmt.Sprintf("%s: ignored %s (not used by the oracle)", where, gvk.Kind))
	}
}

func (in *inputs) addTemplate(kind, name, namespace string, owners []string, spec corev1.PodTemplateSpec, pods int) {
	t := template{kind: kind, name: name, namespace: namespace, owners: owners, spec: spec, pods: pods}
	in.templates = replaceOrAppend(in.templates, t, func(a, b template) bool {
		return a.kind == b.kind && a.namespace == b.namespace && a.name == b.name
	})
}
