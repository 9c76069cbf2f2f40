package main

import (
	"fmt"
	"io"
	"os"

	"github.com/gominitron/gominitron/ops/llm"
)

func runInspect(args []string) error {
	fs := newFlagSet("inspect",
		"usage: gominitron inspect --model DIR",
		"  Prints JSON: config (HF classic form, head_dim explicit), params (total, non_embedding, embedding, per component),",
		"  weight_bytes and kv_cache_bytes_per_token per dtype, and a checkpoint summary validated against the config",
		"  (null when the folder holds no weights). Reads only config.json and safetensors headers.")
	modelDir := fs.String("model", "", "Hugging Face model folder (config.json [+ model.safetensors or index])")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelDir == "" {
		return fmt.Errorf("--model is required")
	}
	return inspect(os.Stdout, *modelDir)
}

func inspect(w io.Writer, dir string) error {
	ins, err := llm.Inspect(dir)
	if err != nil {
		return err
	}
	return writeIndentedJSON(w, ins)
}
