package llm

// SetWeightChunkBytes sets the weight conversion chunk for a test and
// returns the function restoring it.
func SetWeightChunkBytes(n int) (restore func()) {
	old := weightChunkBytes
	weightChunkBytes = n
	return func() { weightChunkBytes = old }
}
