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
	var rows []hubMBPPRow
	for _, r := range rawRows(t, "mbpp.jsonl") {
		row := hubMBPPRow{TaskID: int32(r["task_id"].(float64)), Text: r["text"].(string), Code: r["code"].(string)}
		for _, s := range r["test_list"].([]any) {
			row.TestList = append(row.TestList, s.(string))
		}
		rows = append(rows, row)
	}
	checkParquetLikeJSONL(t, "mbpp", FormatMBPP, rows)
	var grows []hubGSM8KRow
	for _, r := range rawRows(t, "gsm8k.jsonl") {
		grows = append(grows, hubGSM8KRow{Question: r["question"].(string), Answer: r["answer"].(string)})
	}
	checkParquetLikeJSONL(t, "gsm8k", FormatGSM8K, grows)
}

// checkParquetLikeJSONL writes rows (the task NAME.jsonl's rows in the
// hub's Parquet schema) to a Parquet file and checks that ReadGenTask reads
// the same docs from it as from the JSON Lines file.
func checkParquetLikeJSONL[R any](t *testing.T, name string, format Format, rows []R) {
	t.Helper()
	jl, err := ReadGenTask(taskPath(name+".jsonl"), format)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name+".parquet")
	if err := parquet.WriteFile(p, rows); err != nil {
		t.Fatal(err)
	}
	pq, err := ReadGenTask(p, format)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pq.Docs, jl.Docs) {
		t.Errorf("%s: parquet docs %+v\njsonl docs %+v", name, pq.Docs[0], jl.Docs[0])
	}
}
