package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInspectCommand(t *testing.T) {
	var buf bytes.Buffer
	if err := inspect(&buf, filepath.Join("..", "..", "testdata", "hf", "dev-llama-gqa")); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Config struct {
			HeadDim    int     `json:"head_dim"`
			RopeTheta  float64 `json:"rope_theta"`
			NumKVHeads int     `json:"num_key_value_heads"`
		} `json:"config"`
		Params struct {
			Total        int64 `json:"total"`
			NonEmbedding int64 `json:"non_embedding"`
		} `json:"params"`
		WeightBytes map[string]int64 `json:"weight_bytes"`
		KV          map[string]int64 `json:"kv_cache_bytes_per_token"`
		Checkpoint  struct {
			Files   []string       `json:"files"`
			Tensors int            `json:"tensors"`
			DTypes  map[string]int `json:"dtypes"`
		} `json:"checkpoint"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if got.Config.HeadDim != 16 || got.Config.RopeTheta != 1e4 || got.Config.NumKVHeads != 2 {
		t.Errorf("config %+v", got.Config)
	}
	if got.Params.Total != 158016 || got.Params.NonEmbedding != 92480 || got.WeightBytes["bfloat16"] != 2*158016 || got.KV["float32"] != 512 {
		t.Errorf("numbers: %+v %v %v", got.Params, got.WeightBytes, got.KV)
	}
	if len(got.Checkpoint.Files) != 1 || got.Checkpoint.Tensors != 21 || got.Checkpoint.DTypes["F32"] != 21 {
		t.Errorf("checkpoint %+v", got.Checkpoint)
	}

	// Config-only folder: checkpoint null. Broken config: error naming the field.
	dir := t.TempDir()
	cfg, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "hf", "dev-qwen2-bias", "config.json"))
	os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644)
	buf.Reset()
	if err := inspect(&buf, dir); err != nil || !strings.Contains(buf.String(), `"checkpoint": null`) {
		t.Errorf("config-only folder: %v\n%s", err, buf.String())
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(strings.Replace(string(cfg), `"silu"`, `"gelu"`, 1)), 0o644)
	if err := inspect(&buf, dir); err == nil || !strings.Contains(err.Error(), "hidden_act") {
		t.Errorf("bad config: %v", err)
	}
	if err := runInspect([]string{}); err == nil || !strings.Contains(err.Error(), "--model") {
		t.Errorf("no --model: %v", err)
	}
}
