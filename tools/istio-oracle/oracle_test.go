package oracle

// TestOracle is the oracle's entry point. Istio's fake discovery server and its simulation need a
// *testing.T, so the oracle is a test, compiled once with `go test -c` (tools/build-oracle.sh) and
// run as:
//
//	ORACLE_INPUT=<file or directory of manifests> ORACLE_OUTPUT=<json file> ./istio-oracle.test -test.run '^TestOracle$'
//
// or, in batch mode (batch.go), with ORACLE_INPUT a JSON lines file of meshes (a name ending in
// .jsonl, or any file or pipe with ORACLE_BATCH=1).
//
// Without ORACLE_INPUT it is skipped, so `go test ./...` stays quiet.

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"istio.io/istio/pilot/test/xds"
	istiolog "istio.io/istio/pkg/log"
)

// report is the JSON the oracle writes.
type report struct {
	Istio    string    `json:"istio"` // the istio.io/istio module version the binary was built from
	Outcomes []Outcome `json:"outcomes"`
	Notes    []string  `json:"notes"`
	// Addresses: each Service's ClusterIP as the oracle dialled it ("name.namespace" → IP), including
	// those it assigned because the input gave none, so that a caller can show the engine the same mesh.
	Addresses map[string]string `json:"addresses"`
}

func TestOracle(t *testing.T) {
	input := os.Getenv("ORACLE_INPUT")
	if input == "" {
		t.Skip("ORACLE_INPUT is not set")
	}
	if os.Getenv("ORACLE_VERBOSE") == "" {
		for _, s := range istiolog.Scopes() {
			s.SetOutputLevel(istiolog.ErrorLevel)
		}
	}
	if isBatch(input) {
		runBatch(t, input, os.Getenv("ORACLE_OUTPUT"))
		return
	}
	in, err := readInputs(input)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := evaluate(t, in)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	js = append(js, '\n')
	if out := os.Getenv("ORACLE_OUTPUT"); out != "" {
		if err := os.WriteFile(out, js, 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		os.Stdout.Write(js)
	}
}

// evaluate runs one mesh: its own fake discovery server (stopped when t ends), every connection
// judged. Errors of the input come back as errors; Istio's own failures fail t.
func evaluate(t *testing.T, in *inputs) (*report, error) {
	w, err := buildWorld(in)
	if err != nil {
		return nil, err
	}
	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		Configs:           in.istio,
		KubernetesObjects: w.kubeObjects(),
		MeshConfig:        w.mesh,
	})
	o := &oracle{t: t, s: s, w: w, servers: map[*corev1.Pod]*serverView{}}
	outcomes := o.run()
	sort.SliceStable(outcomes, func(i, j int) bool {
		a, b := outcomes[i], outcomes[j]
		if a.Client != b.Client {
			return a.Client < b.Client
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.Port < b.Port
	})
	notes := append(w.notes, o.notes...)
	for _, wl := range w.workloads {
		notes = append(notes, "workload "+wl.id()+": "+wl.signal)
	}
	addresses := map[string]string{}
	for _, s := range w.services {
		if s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone {
			addresses[s.Name+"."+s.Namespace] = s.Spec.ClusterIP
		}
	}
	rep := &report{Istio: istioModuleVersion(), Outcomes: outcomes, Notes: unique(notes), Addresses: addresses}
	if rep.Outcomes == nil {
		rep.Outcomes = []Outcome{}
	}
	if t.Failed() {
		return nil, fmt.Errorf("istiod failed on this input (see the log)")
	}
	return rep, nil
}

// istioModule is set by tools/build-oracle.sh (-ldflags -X) to the istio.io/istio version of go.mod.
var istioModule string

func istioModuleVersion() string {
	if istioModule != "" {
		return istioModule
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "istio.io/istio" {
				return d.Version
			}
		}
	}
	return "unknown"
}

func unique(l []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
