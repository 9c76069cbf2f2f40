// Package evaluate judges a (pruned, distilled) Llama-family model the way
// the Minitron papers do: next-token loss and perplexity on held-out text,
// multiple-choice downstream tasks scored by log-likelihood with
// lm-evaluation-harness semantics (Winogrande, HellaSwag, ARC, PIQA, MMLU
// and a generic {context, choices, label} form), TruthfulQA mc1/mc2,
// generation tasks with greedy KV-cache decoding (gsm8k with the harness's
// answer filters, XLSum with rouge_score's ROUGE-L, MBPP with the generated
// code run in a bubblewrap sandbox), benchmark suites (models × tasks → the
// Minitron blog's table), an offline "true next sentence" task built from
// corpus text, a block sweep scoring depth-pruning candidates by downstream
// accuracy, and a serving-throughput benchmark.
//
// The scoring arithmetic is separated from the model behind two small
// interfaces, so it can be tested without a forward pass:
//
//	LogProber  per-token log-probabilities of whole token sequences (the model)
//	Scorer     log-likelihood of a continuation given a context (built on a LogProber)
//	Generator  greedy continuations cut at stop strings (ModelGenerator: llm.Runner's KV cache)
//	CodeRunner runs a Python program and says whether it passed (SandboxRunner)
//
// NewModelLogProber wires an llm.Model (GoMLX forward pass, right-padded
// batches with an attention mask) into a LogProber.
//
// lm-evaluation-harness semantics followed here (see docs/evaluation.md):
//
//   - a request is (context, continuation); trailing whitespace of the
//     context moves to the start of the continuation; the context and
//     context+continuation strings are encoded whole and the continuation
//     tokens are the tail of the whole encoding after the context's tokens
//     (the harness's HFLM._encode_pair for decoder-only models); an empty
//     context is replaced by the prefix token (BOS);
//   - no BOS is added by default (the harness's add_bos_token=False);
//   - loglikelihood = Σ log p(continuation token | everything before it),
//     with the input left-truncated to the model's max length + 1;
//   - acc = [argmax loglikelihood == gold], acc_norm = [argmax
//     loglikelihood / len(choice) == gold] with len the UTF-8 byte length
//     of the choice text (equal to Python's len(str) for ASCII text);
//   - stderr = sample standard error of the mean, sqrt(p(1-p)/(n-1));
//   - k-shot: for each document, k other documents of the same file drawn
//     with a seeded generator (or the first k, the harness's first_n sampler
//     that MMLU uses), each written as text + " " + target, joined and
//     followed by "\n\n";
//   - Winogrande is "partial" scoring: one context per option (the sentence
//     up to the blank with the option substituted) and a shared
//     continuation (the rest of the sentence after the blank).
package evaluate
