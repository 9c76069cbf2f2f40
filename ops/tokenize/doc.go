// Package tokenize loads, runs and trains tokenizers exactly as the Hugging
// Face `tokenizers` library does, for the tokenizer families Llama-style models
// ship with:
//
//   - tokenizer.json with a BPE model (byte-level BPE as in Llama 3, Qwen2,
//     GPT-2, SmolLM; SentencePiece-converted BPE with byte_fallback as in
//     Llama 2, Mistral, TinyLlama), its normalizers, pre-tokenizers (Split with
//     any regex, including lookaheads such as Llama-3's `\s+(?!\S)`, ByteLevel,
//     Metaspace, Digits, ...), added/special tokens, post-processors
//     (TemplateProcessing adds BOS) and decoders;
//   - SentencePiece tokenizer.model files of the BPE type.
//
// Regexes are run by a hand-written scanner for the known GPT-2, Llama-3 and
// Qwen2 patterns (fuzz-tested against github.com/dlclark/regexp2, which is the
// fallback for any other pattern).
//
// Train trains a byte-level BPE with the Llama-3 pre-tokenizer the way the
// `tokenizers` BpeTrainer does and writes a standard tokenizer.json.
//
// Typical use:
//
//	tok, err := tokenize.Load("path/to/model_dir_or_tokenizer.json")
//	ids := tok.Encode("Hello world", true) // [BOS, ...]
//	text, err := tok.Decode(ids, true)     // skip special tokens
package tokenize
