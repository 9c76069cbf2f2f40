package llm

import "fmt"

// checkGenerateSize refuses, before any cache is allocated, a generation of
// maxNew tokens after prompts of up to promptLen tokens that would run past
// max_position_embeddings or whose KV cache and prompt pass cannot fit in
// memory (CheckFits).
func (r *Runner) checkGenerateSize(batchSize, promptLen, maxNew int) error {
	cfg := r.cfg
	if promptLen+maxNew > cfg.MaxPositions || promptLen+maxNew < 0 {
		return fmt.Errorf("llm.Generate: prompt of %d tokens + MaxNewTokens %d exceeds the model's max_position_embeddings %d (at most %d new tokens)",
			promptLen, maxNew, cfg.MaxPositions, max(cfg.MaxPositions-promptLen, 0))
	}
	cacheLen := roundUp(promptLen+maxNew, lengthBucket)
	need := satAdd(cfg.KVCacheBytes(r.dtype, batchSize, cacheLen), cfg.ForwardActivationBytes(r.dtype, batchSize, promptLen))
	return CheckFits(fmt.Sprintf("llm.Generate: the KV cache for %d×%d positions", batchSize, cacheLen), need)
}

// CheckSequenceLength refuses sequences of seqLen tokens longer than the
// model's max_position_embeddings; what names the quantity (e.g. "seq_len").
func (c *Config) CheckSequenceLength(what string, seqLen int) error {
	if seqLen > c.MaxPositions {
		return fmt.Errorf("%s %d exceeds the model's max_position_embeddings %d", what, seqLen, c.MaxPositions)
	}
	return nil
}
