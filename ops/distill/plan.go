package distill

import (
	"fmt"
	"io"

	"github.com/gominitron/gominitron/ops/llm"
)

// memoryPlan estimates one distillation step's memory (llm.DistillBytes:
// teacher frozen in the dtype it is loaded in, student float32 master
// weights, gradients, Adam state, activations, chunked logits), prints it to
// w with the largest batch that fits the available memory at this sequence
// length, and refuses the run (llm.CheckFits) when it does not fit.
func memoryPlan(w io.Writer, teacher, student *llm.Config, o Options) error {
	plan := llm.DistillBytes(teacher, student, o.DType, o.DType, o.BatchSize, o.SeqLen, o.Loss.ChunkSize)
	fmt.Fprintf(w, "distill: memory plan for batches of %d × %d tokens: teacher %s + student %s + gradients %s + Adam %s + activations %s + logits %s = %s",
		o.BatchSize, o.SeqLen, llm.FormatBytes(plan.TeacherWeights), llm.FormatBytes(plan.StudentWeights), llm.FormatBytes(plan.Gradients),
		llm.FormatBytes(plan.OptimizerState), llm.FormatBytes(plan.Activations), llm.FormatBytes(plan.Logits), llm.FormatBytes(plan.Total))
	if avail, source, ok := llm.AvailableMemory(); ok {
		largest := llm.LargestDistillBatch(teacher, student, o.DType, o.DType, o.SeqLen, o.Loss.ChunkSize, avail)
		fmt.Fprintf(w, "; %s available (%s): at most %d × %d tokens fit", llm.FormatBytes(avail), source, largest, o.SeqLen)
	}
	fmt.Fprintln(w)
	return llm.CheckFits(fmt.Sprintf("distill: teacher forward + student training on batches of %d × %d tokens", o.BatchSize, o.SeqLen), plan.Total)
}
