package distill

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
)

// TokenizerFile is the tokenizer both model folders are expected to share.
const TokenizerFile = "tokenizer.json"

// VocabInfo is the outcome of CheckVocab.
type VocabInfo struct {
	Teacher   int `json:"teacher_vocab"`              // teacher config vocab_size (embedding rows)
	Student   int `json:"student_vocab"`              // student config vocab_size
	Used      int `json:"used_vocab"`                 // logits compared over ids [0, Used)
	Tokenizer int `json:"tokenizer_vocab,omitempty"`  // ids the shared tokenizer can produce (0: no tokenizer.json)
	Cut       int `json:"padding_rows_cut,omitempty"` // |Teacher − Student| padding rows ignored
}

// CheckVocab verifies that teacher and student share the vocabulary.
//
// When both folders hold a tokenizer.json, the files must be byte-identical
// and the tokenizer's ids must fit in both vocabularies (a tokenizer on one
// side only is accepted: pruning never changes it). A differing vocab
// size is an error unless the extra rows of the bigger model are padding: both
// folders hold the same tokenizer.json, and it produces fewer ids than the
// smaller model's vocab_size. Then logits are compared over the first
// min(teacher, student) ids (the padding rows are cut in the loss; no weight
// is changed). dataMaxID, when ≥ 0, is the largest token id of the training
// data, which must be below the used vocabulary.
func CheckVocab(teacherDir, studentDir string, teacher, student *llm.Config, dataMaxID int) (VocabInfo, error) {
	info := VocabInfo{Teacher: teacher.VocabSize, Student: student.VocabSize, Used: min(teacher.VocabSize, student.VocabSize)}
	tTok, tErr := fileio.ReadRegular(filepath.Join(teacherDir, TokenizerFile), fileio.MaxSideFileBytes)
	sTok, sErr := fileio.ReadRegular(filepath.Join(studentDir, TokenizerFile), fileio.MaxSideFileBytes)
	bothTok := tErr == nil && sErr == nil
	if bothTok && !bytes.Equal(tTok, sTok) {
		return info, fmt.Errorf("distill: teacher %s and student %s have different %s files: they must share the tokenizer",
			teacherDir, studentDir, TokenizerFile)
	}
	if bothTok {
		tok, err := tokenize.ParseJSON(tTok, filepath.Join(teacherDir, TokenizerFile))
		if err != nil {
			return info, fmt.Errorf("distill: %w", err)
		}
		info.Tokenizer = tok.VocabSize()
		if info.Tokenizer > info.Used {
			return info, fmt.Errorf("distill: the tokenizer of %s has %d ids but the smaller model's vocab_size is %d (teacher %d, student %d)",
				teacherDir, info.Tokenizer, info.Used, teacher.VocabSize, student.VocabSize)
		}
	}
	if teacher.VocabSize != student.VocabSize {
		if !bothTok {
			return info, fmt.Errorf("distill: vocab sizes differ (teacher %d in %s, student %d in %s) and without the same %s in both folders the extra rows cannot be shown to be padding",
				teacher.VocabSize, teacherDir, student.VocabSize, studentDir, TokenizerFile)
		}
		info.Cut = max(teacher.VocabSize, student.VocabSize) - info.Used
	}
	if dataMaxID >= info.Used {
		return info, fmt.Errorf("distill: the data holds token id %d but the used vocabulary is %d (teacher %d, student %d)",
			dataMaxID, info.Used, teacher.VocabSize, student.VocabSize)
	}
	return info, nil
}
