// Command wazero is the Go reference host for `reactor-pool bench`: it loads the same reactor with
// wazero, calls its `inc` export in a tight loop, and prints calls per second as one JSON object.
//
//	go run . [-calls N] [-rounds R] path/to/reactor.wasm
//
// Every round adds 1 per call, so the instance must end at its initial value plus the number of
// calls; a wrong value is reported (`"correct": false`) and exits 1.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// report is what the benchmark runner reads from stdout.
type report struct {
	Host           string    `json:"host"`
	WazeroVersion  string    `json:"wazeroVersion"`
	GoVersion      string    `json:"goVersion"`
	Calls          int       `json:"calls"`
	Rounds         int       `json:"rounds"`
	CallsPerSecond float64   `json:"callsPerSecond"`
	RoundRates     []float64 `json:"roundRates"`
	Initial        int32     `json:"initial"`
	Final          int32     `json:"final"`
	Expected       int32     `json:"expected"`
	Correct        bool      `json:"correct"`
}

// wazeroVersion is the wazero version this binary was built with (pinned in go.mod).
func wazeroVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/tetratelabs/wazero" {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func main() {
	calls := flag.Int("calls", 20_000_000, "calls of inc per round")
	rounds := flag.Int("rounds", 5, "measured rounds; the median rate is reported")
	flag.Parse()
	if flag.NArg() != 1 || *calls < 1 || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "usage: wazero [-calls N] [-rounds R] reactor.wasm")
		os.Exit(2)
	}
	out, err := run(flag.Arg(0), *calls, *rounds)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wazero reference host: %v\n", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
	if !out.Correct {
		os.Exit(1)
	}
}

func run(path string, calls, rounds int) (*report, error) {
	ctx := context.Background()
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)

	// The reactor prints `s = 20` from _initialize; the benchmark has no use for it.
	config := wazero.NewModuleConfig().WithStartFunctions("_initialize").WithStderr(io.Discard).WithStdout(io.Discard)
	mod, err := rt.InstantiateWithConfig(ctx, wasm, config)
	if err != nil {
		return nil, fmt.Errorf("instantiating %s: %w", path, err)
	}
	inc := mod.ExportedFunction("inc")
	if inc == nil {
		return nil, fmt.Errorf("module %s exports no function inc", path)
	}

	// CallWithStack reuses one stack slice: the loop measures the call, not the allocator.
	stack := make([]uint64, 1)
	call := func(n int32) (int32, error) {
		stack[0] = api.EncodeI32(n)
		if err := inc.CallWithStack(ctx, stack); err != nil {
			return 0, err
		}
		return api.DecodeI32(stack[0]), nil
	}

	initial, err := call(0)
	if err != nil {
		return nil, fmt.Errorf("inc(0): %w", err)
	}
	expected := initial
	rates := make([]float64, 0, rounds)
	for round := 0; round < rounds; round++ {
		var last int32
		started := time.Now()
		for i := 0; i < calls; i++ {
			if last, err = call(1); err != nil {
				return nil, fmt.Errorf("inc(1): %w", err)
			}
		}
		elapsed := time.Since(started)
		expected += int32(calls) // wraps like the reactor's own i32 addition
		if last != expected {
			return &report{Host: "wazero", WazeroVersion: wazeroVersion(), GoVersion: runtime.Version(), Initial: initial, Final: last, Expected: expected}, nil
		}
		rates = append(rates, float64(calls)/elapsed.Seconds())
	}
	final, err := call(0)
	if err != nil {
		return nil, fmt.Errorf("inc(0): %w", err)
	}

	sorted := append([]float64(nil), rates...)
	sort.Float64s(sorted)
	return &report{
		Host:           "wazero",
		WazeroVersion:  wazeroVersion(),
		GoVersion:      runtime.Version(),
		Calls:          calls * rounds,
		Rounds:         rounds,
		CallsPerSecond: sorted[len(sorted)/2],
		RoundRates:     rates,
		Initial:        initial,
		Final:          final,
		Expected:       expected,
		Correct:        final == expected,
	}, nil
}
