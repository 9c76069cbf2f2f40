package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
)

// printJSON prints v as indented JSON on stdout and, when out is not empty,
// also writes it to the file out (results.SaveJSON: atomically).
func printJSON(v any, out string) error {
	if out != "" {
		if err := results.SaveJSON(out, v); err != nil {
			return err
		}
	}
	return writeIndentedJSON(os.Stdout, v)
}

// writeIndentedJSON writes v to w as indented JSON and a newline.
func writeIndentedJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

// checkOutputFlag runs the output-path guard (fileio.CheckOutput) for the
// output flag named flagName against the command's inputs, and names the
// flag in the refusal. An empty out (flag not given) passes.
func checkOutputFlag(flagName, out string, inputs ...string) error {
	if err := fileio.CheckOutput(out, inputs...); err != nil {
		return fmt.Errorf("--%s: %w", flagName, err)
	}
	return nil
}

// refuseModelFolder refuses an output folder that holds a model
// (llm.IsModelDir): writing into it would replace the model's files.
func refuseModelFolder(flagName, dir string) error {
	if llm.IsModelDir(dir) {
		return fmt.Errorf("--%s %s holds a model (config.json or safetensors weights); refusing to write into it: choose a new folder", flagName, dir)
	}
	return nil
}
