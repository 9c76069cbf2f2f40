package llm

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// DefaultScope is the store scope NewRunner puts a model's weights under.
const DefaultScope = "/llm"

// variablePath is the store path of the HF-named weight under scopePath.
func variablePath(scopePath, hfName string) string {
	return strings.TrimSuffix(scopePath, "/") + "/" + hfName
}

// storeWeights creates one variable per weight (named by its HF name) under
// scopePath. The tensors are shared, not copied.
func storeWeights(store *model.Store, scopePath string, weights map[string]*tensors.Tensor) error {
	if !strings.HasPrefix(scopePath, "/") {
		return fmt.Errorf("llm: store scope %q must be absolute (start with \"/\")", scopePath)
	}
	names := make([]string, 0, len(weights))
	for n := range weights {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.Contains(n, "/") {
			return fmt.Errorf("llm: weight name %q contains \"/\"", n)
		}
		path := variablePath(scopePath, n)
		if store.GetVariable(path) != nil {
			return fmt.Errorf("llm: store already holds variable %q", path)
		}
		if _, err := store.CreateVariable(path, weights[n]); err != nil {
			return fmt.Errorf("llm: storing weight %q: %w", n, err)
		}
	}
	return nil
}

// StoreParams returns the ParamFn reading weights from the store variables
// under scopePath (as created by Model.ToStore) in graph g. It is meant for
// graphs run by model.Exec (which feeds the variables); a weight updated in
// the graph with Variable.SetNodeValue is seen with its updated value.
func StoreParams(g *graph.Graph, store *model.Store, scopePath string) ParamFn {
	return func(hfName string) *graph.Node {
		v := store.GetVariable(variablePath(scopePath, hfName))
		if v == nil {
			return nil
		}
		return v.NodeValue(g)
	}
}

// storeWeightNames lists the HF names of the variables under scopePath.
func storeWeightNames(store *model.Store, scopePath string) []string {
	prefix := strings.TrimSuffix(scopePath, "/") + "/"
	var names []string
	for v := range store.IterVariables() {
		if p := v.Path(); strings.HasPrefix(p, prefix) && !strings.Contains(p[len(prefix):], "/") {
			names = append(names, p[len(prefix):])
		}
	}
	sort.Strings(names)
	return names
}
