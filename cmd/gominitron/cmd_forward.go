package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/safetensors"
)

// forwardSummary is what `forward` prints on stdout.
type forwardSummary struct {
	Out       string   `json:"out"`
	BatchSize int      `json:"batch_size"`
	SeqLen    int      `json:"seq_len"`
	Tensors   []string `json:"tensors"`
	Seconds   float64  `json:"seconds"`
}

func runForwardCommand(args []string) error {
	fs := newFlagSet("forward",
		"usage: gominitron forward --model DIR --input IN.safetensors --out OUT.safetensors [--dtype float32] [--logits-only]",
		"  IN holds int32 (or int64) input_ids [batch, seq] and optionally attention_mask [batch, seq] (0 = right padding).",
		"  OUT gets float32 logits [batch, seq, vocab], hidden_states.0..L [batch, seq, hidden] (hidden_states.L after the final norm)",
		"  and last_layer_output_raw — the Hugging Face reference fixtures' semantics.")
	modelDir := fs.String("model", "", "Hugging Face model folder (config.json + safetensors)")
	inPath := fs.String("input", "", "safetensors file with input_ids")
	outPath := fs.String("out", "", "safetensors file to write (atomically)")
	dtype := dtypeFlag(fs, "float32", "compute dtype: float32, bfloat16 or float16 (outputs are float32)")
	logitsOnly := fs.Bool("logits-only", false, "write only logits")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelDir == "" || *inPath == "" || *outPath == "" {
		return fmt.Errorf("--model, --input and --out are required")
	}
	if err := checkOutputFlag("out", *outPath, *modelDir, *inPath); err != nil {
		return err
	}
	ids, mask, err := readForwardInput(*inPath)
	if err != nil {
		return err
	}
	_, runner, err := openRunner(*modelDir, *dtype)
	if err != nil {
		return err
	}
	defer runner.Close()
	start := time.Now()
	out, err := runner.Forward(ids, mask)
	if err != nil {
		return fmt.Errorf("%s: %w", *inPath, err)
	}
	seconds := time.Since(start).Seconds()
	named := []safetensors.NamedTensor{{Name: "logits", T: out.Logits}}
	if !*logitsOnly {
		for l, h := range out.Hidden {
			named = append(named, safetensors.NamedTensor{Name: fmt.Sprintf("hidden_states.%d", l), T: h})
		}
		named = append(named, safetensors.NamedTensor{Name: "last_layer_output_raw", T: out.LastLayerRaw})
	}
	if err := safetensors.Write(*outPath, named, map[string]string{"format": "pt", "producer": "gominitron forward"}); err != nil {
		return err
	}
	summary := forwardSummary{Out: *outPath, BatchSize: ids.Shape().Dim(0), SeqLen: ids.Shape().Dim(1), Seconds: seconds}
	for _, n := range named {
		summary.Tensors = append(summary.Tensors, n.Name)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(summary)
}

// readForwardInput reads input_ids (as int32) and the optional attention_mask
// (as bool) from a safetensors file.
func readForwardInput(path string) (ids, mask *tensors.Tensor, err error) {
	ids, m, err := safetensors.ReadInputIDs(path)
	if err != nil || m == nil {
		return ids, nil, err
	}
	flat := tensors.MustCopyFlatData[int32](m)
	valid := make([]bool, len(flat))
	for i, v := range flat {
		valid[i] = v != 0
	}
	return ids, tensors.FromFlatDataAndDimensions(valid, ids.Shape().Dimensions...), nil
}
