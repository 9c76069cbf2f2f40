// Package distill recovers a pruned student from its teacher by knowledge
// distillation, the Minitron way: forward KL on the logits (τ = 1, no CE term
// by default), optional intermediate-state loss through a learned linear map,
// teacher and student in one compiled training step.
//
// Layers:
//
//   - losses (graph builders, float32 whatever the compute dtype):
//     TokenDivergence (forward KL, reverse KL, generalized JSD, temperature,
//     top-K teacher logits), RMSNormalize/Project/TokenStateLoss for the
//     intermediate states, MaskedMean;
//   - NewLossFn: the train.LossFn of one step — frozen teacher (store scope
//     TeacherScope, non-trainable, read through StopGradient) and student
//     (StudentScope) forwards on the same batch, logits losses (optionally
//     chunked over the sequence), intermediate term with the dynamic α;
//   - Run: the whole recovery (vocabulary check, store setup, ops/train's
//     Trainer with its schedule, metrics, checkpoints/resume and NaN guard,
//     validation LM loss before/after, export of the student as a Hugging
//     Face folder with distill.json lineage). Also runs the plain LM-loss
//     (CE) retraining baseline with the same data and schedule.
//
// Dimension legend: batchSize, seqLen (positions per sequence), vocab,
// teacherHidden / studentHidden (hidden sizes).
package distill
