package evaluate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func taskPath(name string) string { return filepath.Join("..", "..", "testdata", "tasks", name) }

func TestReadTaskFormats(t *testing.T) {
	cases := []struct {
		file   string
		format Format
		want   []Doc
	}{
		{"winogrande.jsonl", FormatWinogrande, []Doc{
			{Choices: []string{"The trophy doesn't fit into the brown suitcase because the trophy", "The trophy doesn't fit into the brown suitcase because the suitcase"}, Target: "is too large.", Gold: 0, Partial: true},
			{Choices: []string{"The trophy doesn't fit into the brown suitcase because the trophy", "The trophy doesn't fit into the brown suitcase because the suitcase"}, Target: "is too small.", Gold: 1, Partial: true},
			{Choices: []string{"Sarah lent her umbrella to Maria because Sarah", "Sarah lent her umbrella to Maria because Maria"}, Target: "was going to walk home in the rain.", Gold: 1, Partial: true},
			{Choices: []string{"The cat chased the mouse until the cat", "The cat chased the mouse until the mouse"}, Target: "was too tired to run.", Gold: 0, Partial: true},
		}},
		{"hellaswag.jsonl", FormatHellaSwag, []Doc{
			{Text: "Removing ice from car: Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles. Then",
				Choices: []string{", the man adds wax to the windshield and cuts it.", ", a person board a ski lift, while two men supporting the head of the person wearing winter clothes snow as the we girls sled.", ", the man puts on a christmas coat, knitted with netting.", ", the man continues removing the snow on his car."}, Gold: 3},
			{Text: "Home and Garden: How to grow tomatoes. Choose a sunny spot. Tomatoes need at least six hours of sun a day. You should also",
				Choices: []string{"water the plants deeply once a week.", "paint the fence blue.", "sing to the tomatoes loudly.", "buy a new car. today."}, Gold: 0},
			{Text: "Baking cookies: A woman puts a tray of cookie dough into the oven. She",
				Choices: []string{"waits for them to bake and then takes them out.", "throws the oven out of the window.", "swims across the kitchen."}, Gold: 0},
		}},
		{"arc.jsonl", FormatARC, []Doc{
			{Text: "Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?\nAnswer:",
				Choices: []string{"Planetary density will decrease.", "Planetary years will become longer.", "Planetary days will become shorter.", "Planetary gravity will become stronger."}, Gold: 2},
			{Text: "Question: Which object is the best conductor of electricity?\nAnswer:",
				Choices: []string{"a wax crayon", "a plastic spoon", "a rubber eraser", "an iron nail"}, Gold: 3},
			{Text: "Question: George wants to warm his hands quickly by rubbing them. Which skin surface will produce the most heat?\nAnswer:",
				Choices: []string{"dry palms", "wet palms", "palms covered with oil", "palms covered with lotion"}, Gold: 0},
		}},
		{"piqa.jsonl", FormatPIQA, []Doc{
			{Text: "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:",
				Choices: []string{"Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips, you will also need to supply it with a water bottle and a food dish.", "Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material, you will also need to supply it with a water bottle and a food dish."}, Gold: 0},
			{Text: "Question: To open a jar with a tight lid,\nAnswer:", Choices: []string{"run the lid under hot water for a minute, then twist it.", "run the lid under cold water for a minute, then twist it."}, Gold: 0},
			{Text: "Question: Keep bread fresh longer.\nAnswer:", Choices: []string{"Store it in the sun on a windowsill.", "Store it in a sealed bag in a cool place."}, Gold: 1},
		}},
		{"mmlu.jsonl", FormatMMLU, []Doc{
			{Text: "Find the degree for the given field extension Q(sqrt(2)) over Q.\nA. 0\nB. 2\nC. 1\nD. 3\nAnswer:", Choices: []string{"A", "B", "C", "D"}, Gold: 1,
				Description: "The following are multiple choice questions (with answers) about abstract algebra.\n\n"},
			{Text: "What is the boiling point of water at sea level in degrees Celsius?\nA. 0\nB. 50\nC. 100\nD. 212\nAnswer:", Choices: []string{"A", "B", "C", "D"}, Gold: 2,
				Description: "The following are multiple choice questions (with answers) about high school chemistry.\n\n"},
			{Text: "Which planet is closest to the Sun?\nA. Venus\nB. Mercury\nC. Earth\nD. Mars\nAnswer:", Choices: []string{"A", "B", "C", "D"}, Gold: 1,
				Description: "The following are multiple choice questions (with answers) about astronomy.\n\n"},
		}},
		{"mc.jsonl", FormatMC, []Doc{
			{Text: "The capital of France is", Choices: []string{"Paris", "a large green frog", "Berlin"}, Gold: 0},
			{Text: "Water boils at sea level at a temperature of", Choices: []string{"100 degrees Celsius.", "10 degrees Celsius."}, Gold: 0},
			{Text: "Q: What do bees make?\nA:", Choices: []string{"honey", "steel"}, Gold: 0},
			{Text: "Cats are mammals that like to", Choices: []string{"sleep in the sun", "fly to the moon", "éclair — café"}, Gold: 0},
		}},
	}
	for _, c := range cases {
		t.Run(string(c.format), func(t *testing.T) {
			got, err := ReadTask(taskPath(c.file), c.format)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				for i := range max(len(got), len(c.want)) {
					if i >= len(got) || i >= len(c.want) || !reflect.DeepEqual(got[i], c.want[i]) {
						t.Errorf("doc %d:\n got %#v\nwant %#v", i, at(got, i), at(c.want, i))
					}
				}
			}
		})
	}
}

func at(ds []Doc, i int) any {
	if i < len(ds) {
		return ds[i]
	}
	return nil
}

func TestReadTaskErrors(t *testing.T) {
	cases := []struct {
		name, format, line, wantErr string
	}{
		{"winogrande no blank", "winogrande", `{"sentence": "no blank", "option1": "a", "option2": "b", "answer": "1"}`, "no blank"},
		{"winogrande bad answer", "winogrande", `{"sentence": "a _ b", "option1": "a", "option2": "b", "answer": "3"}`, "answer must be"},
		{"arc unknown key", "arc", `{"question": "q", "choices": {"text": ["a","b"], "label": ["A","B"]}, "answerKey": "E"}`, "answerKey"},
		{"mc gold out of range", "mc", `{"context": "c", "choices": ["a","b"], "label": 2}`, "out of range"},
		{"mc no context", "mc", `{"choices": ["a","b"], "label": 0}`, "no context"},
		{"hellaswag no label", "hellaswag", `{"ctx": "c", "endings": ["a","b"]}`, "no label"},
		{"bad json", "piqa", `{"goal": `, "line 1"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "task.jsonl")
			if err := os.WriteFile(path, []byte(c.line+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadTask(path, Format(c.format))
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
	if _, err := ParseFormat("squad"); err == nil {
		t.Error("ParseFormat accepted an unknown format")
	}
	if _, err := ReadTask(taskPath("gsm8k.jsonl"), FormatGSM8K); err == nil {
		t.Error("ReadTask (log-likelihood formats) accepted the generation format gsm8k")
	}
}

func TestHellaSwagPreprocessHelpers(t *testing.T) {
	if got := pyCapitalize("yOU sHould"); got != "You should" {
		t.Errorf("pyCapitalize = %q", got)
	}
	if got := pyCapitalize(""); got != "" {
		t.Errorf("pyCapitalize(\"\") = %q", got)
	}
	if got := hellaswagPreprocess("  a [title] b [step] c  "); got != "a. b c" {
		t.Errorf("hellaswagPreprocess = %q", got)
	}
}
