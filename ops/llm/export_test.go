package llm

// SetLMHeadChunkBytes sets the lm_head conversion chunk for a test and
// returns the function restoring it.
func SetLMHeadChunkBytes(n int) (restore func()) {
	old := lmHeadChunkBytes
	lmHeadChunkBytes = n
	return func() { lmHeadChunkBytes = old }
}
