// Package distill recovers a pruned student from its teacher by knowledge
// distillation, the Minitron way: forward KL on the logits (τ = 1, no CE term
// by default), optional intermediate-state loss through a learned linear map,
// teacher and student in one compiled training step.
//
// Files, bottom up:
//
//   - divergence.go (graph builders, float32 whatever the compute dtype):
//     TokenDivergence (forward KL, reverse KL, generalized JSD, temperature,
//     top-K teacher logits), KLFromLogProbs (the project's one KL), MaskedMean;
//   - intermediate.go: layer maps, RMSNormalize/Project/TokenStateLoss for
//     the intermediate states;
//   - objective.go: Loss (the distillation objective L_logits + α·L_is +
//     CEWeight·L_ce) and NewLossFn, the train.LossFn of one step — frozen
//     teacher (store scope TeacherScope, non-trainable, read through
//     StopGradient) and student (StudentScope) forwards on the same batch,
//     logits losses (optionally chunked over the sequence, chunk.go),
//     intermediate term with the dynamic α;
//   - store.go, vocab.go: the shared store, the projection, the
//     vocabulary check, the validation LM-loss evaluator;
//   - run.go: Run, a composition of steps a notebook can call one by one —
//     Options.Check (fields and paths), Open (data, vocabulary, configs,
//     CheckMemory, weights → Inputs), NewSession (store, projection, loss,
//     ops/train's Trainer, batches), Session.Train (validation LM loss
//     before/after, metrics, checkpoints/resume, NaN guard), Session.Export
//     (the student as a Hugging Face folder with distill.json lineage). A
//     memory plan or dry run belongs between Open's configs and its weights
//     (CheckMemory is that step today). Plain LM-loss (CE) retraining of a
//     student, the baseline distillation is compared with, has no teacher
//     and is ops/train's: train.TrainLM on opened values, `gominitron
//     finetune` on the CLI.
//
// Library errors name Options fields ("Options.Steps"), never CLI flags;
// cmd/gominitron maps the fields to flags.
//
// Dimension legend: batchSize, seqLen (positions per sequence), vocab,
// teacherHidden / studentHidden (hidden sizes).
package distill
