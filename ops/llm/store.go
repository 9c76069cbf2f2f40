package llm

import (
	"fmt"
	"maps"
	"slices"
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
	names := slices.Sorted(maps.Keys(weights))
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

// ToStore creates one variable per weight of m, named by its HF name, under
// scopePath (e.g. DefaultScope). The tensors are shared with the store, not
// copied: once training updates a variable, the Model's tensor for it may be
// released — use ModelFromStore to get the current weights back.
func (m *Model) ToStore(store *model.Store, scopePath string) error {
	if m == nil || m.Config == nil {
		return fmt.Errorf("llm.ToStore: model or its config is nil")
	}
	if err := CheckWeights(m.Config, m.Weights); err != nil {
		return fmt.Errorf("llm.ToStore: %w", err)
	}
	return storeWeights(store, scopePath, m.Weights)
}

// ModelFromStore copies the weights under scopePath back to host tensors keyed
// by HF names (e.g. for SaveModel). Every tensor cfg.TensorShapes lists must be
// present with its shape; other variables are ignored.
func ModelFromStore(cfg *Config, store *model.Store, scopePath string) (*Model, error) {
	if cfg == nil || store == nil {
		return nil, fmt.Errorf("llm.ModelFromStore: nil config or store")
	}
	want := cfg.TensorShapes()
	weights := make(map[string]*tensors.Tensor, len(want))
	for name, dims := range want {
		path := variablePath(scopePath, name)
		v := store.GetVariable(path)
		if v == nil {
			return nil, fmt.Errorf("llm.ModelFromStore: store has no variable %q", path)
		}
		value, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("llm.ModelFromStore: variable %q: %w", path, err)
		}
		if !slices.Equal(value.Shape().Dimensions, dims) {
			return nil, fmt.Errorf("llm.ModelFromStore: variable %q has shape %v, config wants %v", path, value.Shape().Dimensions, dims)
		}
		if weights[name], err = value.LocalClone(); err != nil {
			return nil, fmt.Errorf("llm.ModelFromStore: copying %q: %w", path, err)
		}
	}
	return &Model{Config: cfg, Weights: weights}, nil
}

// Clone returns a copy of m with host copies of every weight, e.g. to train a
// model (ToStore shares tensors with the store, and training replaces them)
// while keeping the original.
func (m *Model) Clone() (*Model, error) {
	w := make(map[string]*tensors.Tensor, len(m.Weights))
	for name, t := range m.Weights {
		c, err := t.LocalClone()
		if err != nil {
			return nil, fmt.Errorf("llm: copying %s: %w", name, err)
		}
		w[name] = c
	}
	return &Model{Config: m.Config, Weights: w, Source: m.Source}, nil
}
