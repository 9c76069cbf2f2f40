package results

// LMEval is the result of an LM-loss / perplexity evaluation.
type LMEval struct {
	Model      string  `json:"model,omitempty"`
	Data       string  `json:"data,omitempty"`
	LMLoss     float64 `json:"lm_loss"`    // mean next-token cross-entropy (nats)
	Perplexity float64 `json:"perplexity"` // exp(lm_loss)
	Tokens     int64   `json:"tokens"`     // predicted tokens counted
}

// MCEval is the result of a multiple-choice task with lm-eval-harness
// semantics.
type MCEval struct {
	Model   string  `json:"model,omitempty"`
	Task    string  `json:"task,omitempty"`
	Format  string  `json:"format,omitempty"` // winogrande | hellaswag | arc | piqa | mc
	Shots   int     `json:"shots,omitempty"`
	Seed    int64   `json:"seed,omitempty"`
	Acc     float64 `json:"acc"`
	AccNorm float64 `json:"acc_norm"` // normalized by continuation byte length
	Stderr  float64 `json:"stderr"`   // standard error of acc
	N       int     `json:"n"`        // number of examples
}

// Bench is one throughput measurement (one shape at one batch size and
// input/output length).
type Bench struct {
	Shape               string  `json:"shape"` // e.g. "llama-3.1-8b", "width-4b"
	Batch               int     `json:"batch"`
	InputLen            int     `json:"input_len"`
	OutputLen           int     `json:"output_len"`
	PrefillTokensPerSec float64 `json:"prefill_tokens_per_sec"`
	DecodeTokensPerSec  float64 `json:"decode_tokens_per_sec"`
	RequestsPerSec      float64 `json:"requests_per_sec"`
	PeakMemoryBytes     int64   `json:"peak_memory_bytes,omitempty"`
	DType               string  `json:"dtype,omitempty"`
	Backend             string  `json:"backend,omitempty"`
	Device              string  `json:"device,omitempty"`
}
