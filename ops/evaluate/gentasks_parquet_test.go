package evaluate

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// hubMBPPRow is mbpp's Parquet schema on the Hugging Face hub: task_id
// int32, the lists as standard LIST columns, optional strings.
type hubMBPPRow struct {
	TaskID            int32    `parquet:"task_id"`
	Text              string   `parquet:"text,optional"`
	Code              string   `parquet:"code,optional"`
	TestList          []string `parquet:"test_list,list"`
	TestSetupCode     string   `parquet:"test_setup_code,optional"`
	ChallengeTestList []string `parquet:"challenge_test_list,list"`
}

type hubGSM8KRow struct {
	Question string `parquet:"question,optional"`
	Answer   string `parquet:"answer,optional"`
}

// TestReadGenTaskParquet: the same rows as Parquet and as JSON Lines give
// the same docs.
func TestReadGenTaskParquet(t *testing.T) {
	dir := t.TempDir()
	jl, err := ReadGenTask(taskPath("mbpp.jsonl"), FormatMBPP)
	if err != nil {
		t.Fatal(err)
	}
	var rows []hubMBPPRow
	for _, r := range rawRows(t, "mbpp.jsonl") {
		row := hubMBPPRow{TaskID: int32(r["task_id"].(float64)), Text: r["text"].(string), Code: r["code"].(string)}
		for _, s := range r["test_list"].([]any) {
			row.TestList = append(row.TestList, s.(string))
		}
		rows = append(rows, row)
	}
	p := filepath.Join(dir, "mbpp.parquet")
	if err := parquet.WriteFile(p, rows); err != nil {
		t.Fatal(err)
	}
	pq, err := ReadGenTask(p, FormatMBPP)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pq.Docs, jl.Docs) {
		t.Errorf("parquet docs %+v\njsonl docs %+v", pq.Docs[0], jl.Docs[0])
	}

	jg, err := ReadGenTask(taskPath("gsm8k.jsonl"), FormatGSM8K)
	if err != nil {
		t.Fatal(err)
	}
	var grows []hubGSM8KRow
	for _, r := range rawRows(t, "gsm8k.jsonl") {
		grows = append(grows, hubGSM8KRow{Question: r["question"].(string), Answer: r["answer"].(string)})
	}
	p = filepath.Join(dir, "gsm8k.parquet")
	if err := parquet.WriteFile(p, grows); err != nil {
		t.Fatal(err)
	}
	pg, err := ReadGenTask(p, FormatGSM8K)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pg.Docs, jg.Docs) {
		t.Errorf("gsm8k parquet docs differ: %+v", pg.Docs[0])
	}
}
