package oracle

// Batch mode: many meshes in one process. ORACLE_INPUT is a JSON lines file (a name ending in
// .jsonl, or any file or pipe with ORACLE_BATCH=1), one mesh per line:
//
//	{"id": "mesh-17", "yaml": "<the mesh's manifests, one YAML stream>"}
//
// and ORACLE_OUTPUT (default stdout) receives one line per mesh, written as soon as the mesh is
// done, in the order meshes finish:
//
//	{"id": "mesh-17", "istio": "...", "outcomes": [...], "notes": [...], "ms": 41}
//	{"id": "mesh-18", "error": "..."}
//
// Each mesh gets its own fake discovery server, in a subtest of its own that stops it when the mesh
// is done; a mesh that istiod fails on, or that panics, gives an error line and the batch goes on.
// Because input is read line by line and each answer is written at once, the oracle can also serve
// a caller that writes one mesh at a time to a pipe and waits for its answer (oracle.ts
// OracleSession). ORACLE_PARALLEL (default 1) meshes are judged at a time.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// batchInput is one line of a batch.
type batchInput struct {
	ID   string `json:"id"`
	YAML string `json:"yaml"`
}

// batchOutput is one line of the answer: a report, or the error that stopped the mesh.
type batchOutput struct {
	ID string `json:"id"`
	*report
	Error string `json:"error,omitempty"`
	// Ms is the wall time the mesh took, in milliseconds.
	Ms int64 `json:"ms"`
}

func isBatch(input string) bool {
	return os.Getenv("ORACLE_BATCH") == "1" || strings.HasSuffix(strings.ToLower(input), ".jsonl")
}

func runBatch(t *testing.T, input, output string) {
	in, err := openStream(input, false)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := os.Stdout
	if output != "" {
		if out, err = openStream(output, true); err != nil {
			t.Fatal(err)
		}
		defer out.Close()
	}
	workers := 1
	if n, err := strconv.Atoi(os.Getenv("ORACLE_PARALLEL")); err == nil && n > 0 {
		workers = n
	}

	var mu sync.Mutex // one line at a time on the output
	emit := func(o batchOutput) {
		js, err := json.Marshal(o)
		if err != nil {
			js, _ = json.Marshal(batchOutput{ID: o.ID, Error: err.Error()})
		}
		mu.Lock()
		defer mu.Unlock()
		if _, err := out.Write(append(js, '\n')); err != nil {
			// The reader is gone (a closed pipe): nothing more can be answered.
			panic(fmt.Sprintf("oracle batch: writing the answer: %v", err))
		}
	}

	lines := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for line := range lines {
				emit(judgeLine(t, line))
			}
		}()
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		n++
		lines <- line
	}
	close(lines)
	wg.Wait()
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s after %d meshes: %v", input, n, err)
	}
}

// openStream opens a file, or takes over an inherited descriptor named /dev/stdin, /dev/stdout or
// /dev/fd/N: opening those by path fails when they are sockets, which Node.js gives a child for its
// pipes.
func openStream(path string, write bool) (*os.File, error) {
	fd := -1
	switch path {
	case "/dev/stdin":
		fd = 0
	case "/dev/stdout":
		fd = 1
	default:
		if n, ok := strings.CutPrefix(path, "/dev/fd/"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				fd = v
			}
		}
	}
	if fd >= 0 {
		return os.NewFile(uintptr(fd), path), nil
	}
	if write {
		return os.Create(path)
	}
	return os.Open(path)
}

// judgeLine judges the mesh of one input line in a subtest of its own.
func judgeLine(t *testing.T, line string) (res batchOutput) {
	start := time.Now()
	defer func() { res.Ms = time.Since(start).Milliseconds() }()
	var b batchInput
	if err := json.Unmarshal([]byte(line), &b); err != nil {
		return batchOutput{ID: b.ID, Error: fmt.Sprintf("not a batch line ({\"id\", \"yaml\"}): %v", err)}
	}
	if b.ID == "" {
		return batchOutput{Error: "a batch line without an id"}
	}
	// Until the subtest says otherwise: a t.Fatal inside istiod's fake server ends it early.
	res = batchOutput{ID: b.ID, Error: "istiod failed on this mesh (the oracle's log has the reason)"}
	t.Run(b.ID, func(t *testing.T) {
		defer func() {
			if p := recover(); p != nil {
				res = batchOutput{ID: b.ID, Error: fmt.Sprintf("panic: %v\n%s", p, debug.Stack())}
			}
		}()
		in, err := readInputsText(b.ID, []byte(b.YAML))
		if err != nil {
			res = batchOutput{ID: b.ID, Error: err.Error()}
			return
		}
		rep, err := evaluate(t, in)
		if err != nil {
			res = batchOutput{ID: b.ID, Error: err.Error()}
			return
		}
		res = batchOutput{ID: b.ID, report: rep}
	})
	return res
}
