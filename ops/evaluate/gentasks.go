package evaluate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Generation task formats (lm-evaluation-harness generate_until tasks).
const (
	FormatGSM8K Format = "gsm8k" // openai/gsm8k main: {question, answer}
	FormatXLSum Format = "xlsum" // csebuetnlp/xlsum: {id, url, title, summary, text}
	FormatMBPP  Format = "mbpp"  // google-research-datasets/mbpp full: {task_id, text, code, test_list, test_setup_code, challenge_test_list}
)

// GenFormats lists the generation formats.
var GenFormats = []Format{FormatGSM8K, FormatXLSum, FormatMBPP}

// IsGenFormat reports whether f is scored by generation.
func IsGenFormat(f Format) bool {
	for _, g := range GenFormats {
		if g == f {
			return true
		}
	}
	return false
}

// GenDoc is one generation example after the harness's doc_to_text /
// doc_to_target.
type GenDoc struct {
	ID        string   // the dataset's id (mbpp task_id, xlsum id; gsm8k: row index)
	Text      string   // doc_to_text: the prompt for this doc
	Target    string   // doc_to_target as written after the doc when it is a few-shot example
	Reference string   // what the metric compares the generation with
	Tests     []string // mbpp: the asserts the generated code must pass
}

// GenTask is a generation task: its docs and the harness's task config.
type GenTask struct {
	Format           Format
	Docs             []GenDoc
	Until            []string // stop strings
	MaxGenTokens     int
	TargetDelimiter  string
	FewshotDelimiter string
	FirstN           bool // default few-shot sampler is first_n (mbpp)
}

// gsm8kRow, xlsumRow and mbppRow are the Hugging Face datasets' rows, as
// JSON Lines or Parquet.
type gsm8kRow struct {
	Question string `json:"question" parquet:"question"`
	Answer   string `json:"answer" parquet:"answer"`
}

type xlsumRow struct {
	ID      string `json:"id" parquet:"id,optional"`
	URL     string `json:"url" parquet:"url,optional"`
	Title   string `json:"title" parquet:"title,optional"`
	Summary string `json:"summary" parquet:"summary"`
	Text    string `json:"text" parquet:"text"`
}

type mbppRow struct {
	TaskID            int64    `json:"task_id" parquet:"task_id"`
	Text              string   `json:"text" parquet:"text"`
	Code              string   `json:"code" parquet:"code"`
	TestList          []string `json:"test_list" parquet:"test_list,list"`
	TestSetupCode     string   `json:"test_setup_code" parquet:"test_setup_code,optional"`
	ChallengeTestList []string `json:"challenge_test_list" parquet:"challenge_test_list,list,optional"`
}

// ReadGenTask reads a generation task from the dataset's JSON Lines
// (.jsonl/.json lines) or Parquet (.parquet) file. Errors name the file and
// the line or row.
func ReadGenTask(path string, format Format) (*GenTask, error) {
	var t *GenTask
	var err error
	switch format {
	case FormatGSM8K:
		t = &GenTask{Until: []string{"Question:", "</s>", "<|im_end|>"}}
		t.Docs, err = readRows(path, func(i int, r gsm8kRow) (GenDoc, error) { return gsm8kDoc(i, r) })
	case FormatXLSum:
		t = &GenTask{Until: []string{"\n\n"}}
		t.Docs, err = readRows(path, func(i int, r xlsumRow) (GenDoc, error) { return xlsumDoc(i, r) })
	case FormatMBPP:
		t = &GenTask{Until: []string{"[DONE]"}, FirstN: true}
		t.Docs, err = readRows(path, func(i int, r mbppRow) (GenDoc, error) { return mbppDoc(r) })
	default:
		return nil, fmt.Errorf("evaluate: %q is not a generation format (want one of %v)", format, GenFormats)
	}
	if err != nil {
		return nil, err
	}
	t.Format = format
	t.MaxGenTokens = DefaultMaxGenTokens
	t.TargetDelimiter, t.FewshotDelimiter = TargetDelimiter, FewshotDelimiter
	if format == FormatMBPP {
		t.TargetDelimiter = ""
	}
	return t, nil
}

// readRows decodes every row of a JSON Lines or Parquet file into R and
// converts it with conv.
func readRows[R any](path string, conv func(i int, r R) (GenDoc, error)) ([]GenDoc, error) {
	var docs []GenDoc
	if strings.EqualFold(filepath.Ext(path), ".parquet") {
		rows, err := parquet.ReadFile[R](path)
		if err != nil {
			return nil, fmt.Errorf("evaluate: reading %s: %w", path, err)
		}
		for i, r := range rows {
			d, err := conv(i, r)
			if err != nil {
				return nil, fmt.Errorf("evaluate: %s row %d: %w", path, i, err)
			}
			docs = append(docs, d)
		}
		if len(docs) == 0 {
			return nil, fmt.Errorf("evaluate: %s holds no examples", path)
		}
		return docs, nil
	}
	return readJSONLines(path, func(i int, b []byte) (GenDoc, error) {
		var r R
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(&r); err != nil {
			return GenDoc{}, err
		}
		return conv(i, r)
	})
}

// gsm8kDoc follows the harness's gsm8k.yaml: "Question: {question}\nAnswer:",
// target the whole answer (reasoning and "#### N").
func gsm8kDoc(i int, r gsm8kRow) (GenDoc, error) {
	if r.Question == "" || r.Answer == "" {
		return GenDoc{}, fmt.Errorf("gsm8k needs non-empty \"question\" and \"answer\"")
	}
	return GenDoc{ID: strconv.Itoa(i), Text: "Question: " + r.Question + "\nAnswer:", Target: r.Answer, Reference: r.Answer}, nil
}

var multiSpace = regexp.MustCompile(` +`)

// xlsumDoc: there is no English XL-Sum task in the harness; this follows its
// xlsum_es (spanish_bench) in English: runs of spaces collapsed in text and
// summary (its process_xlsum), prompt "Text: {text}\nSummary:", target the
// summary, stop at the few-shot delimiter "\n\n" (the harness's default
// "until" when a task gives none).
func xlsumDoc(i int, r xlsumRow) (GenDoc, error) {
	if r.Text == "" || r.Summary == "" {
		return GenDoc{}, fmt.Errorf("xlsum needs non-empty \"text\" and \"summary\"")
	}
	id := r.ID
	if id == "" {
		id = strconv.Itoa(i)
	}
	text, summary := multiSpace.ReplaceAllString(r.Text, " "), multiSpace.ReplaceAllString(r.Summary, " ")
	return GenDoc{ID: id, Text: "Text: " + text + "\nSummary:", Target: summary, Reference: summary}, nil
}

// mbppDoc follows the harness's mbpp.yaml: the prompt lists the task and
// its tests and ends with "[BEGIN]\n"; a few-shot target is the code and
// "\n[DONE]" (target delimiter ""); the reference is the tests, one per line.
func mbppDoc(r mbppRow) (GenDoc, error) {
	if r.Text == "" || len(r.TestList) == 0 {
		return GenDoc{}, fmt.Errorf("mbpp needs \"text\" and a non-empty \"test_list\"")
	}
	tests := strings.Join(r.TestList, "\n")
	return GenDoc{
		ID:        strconv.FormatInt(r.TaskID, 10),
		Text:      "You are an expert Python programmer, and here is your task: " + r.Text + " Your code should pass these tests:\n\n" + tests + "\n[BEGIN]\n",
		Target:    r.Code + "\n[DONE]",
		Reference: tests,
		Tests:     r.TestList,
	}, nil
}

// GenPrompts returns the prompts of the first n docs of t: the harness's
// fewshot_context, i.e. for each of the k shots doc_to_text + target
// delimiter + doc_to_target + few-shot delimiter, then the doc's own
// doc_to_text. Shots are drawn as ContextsFrom draws them (seeded, or the
// first k with firstN): from fewshot when it is not empty (a separate
// few-shot split), else from the other docs of t.
func GenPrompts(t *GenTask, fewshot []GenDoc, n, shots int, seed uint64, firstN bool) ([]string, error) {
	pool := t.Docs
	if len(fewshot) > 0 {
		pool = fewshot
	}
	pick, err := newShotPicker(len(pool), shots, seed, firstN, len(fewshot) > 0)
	if err != nil {
		return nil, err
	}
	out := make([]string, n)
	for i := range n {
		var b strings.Builder
		for _, j := range pick.shots(i) {
			s := pool[j]
			b.WriteString(s.Text + t.TargetDelimiter + s.Target + t.FewshotDelimiter)
		}
		b.WriteString(t.Docs[i].Text)
		out[i] = b.String()
	}
	return out, nil
}
