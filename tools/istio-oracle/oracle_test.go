package oracle

// TestOracle is the oracle's entry point. Istio's fake discovery server and its simulation need a
// *testing.T, so the oracle is a test, compiled once with `go test -c` (tools/build-oracle.sh) and
// run as:
//
//	ORACLE_INPUT=<file or directory of manifests> ORACLE_OUTPUT=<json file> ./istio-oracle.test -test.run '^TestOracle$'
//
// Without ORACLE_INPUT it is skipped, so `go test ./...` stays quiet.

import (
	"encoding/json"
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
	in, err := readInputs(input)
	if err != nil {
		t.Fatal(err)
	}
	w, err := buildWorld(in)
	if err != nil {
		t.Fatal(err)
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
	rep := report{Istio: istioModuleVersion(), Outcomes: outcomes, Notes: unique(notes)}
	if rep.Outcomes == nil {
		rep.Outcomes = []Outcome{}
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
