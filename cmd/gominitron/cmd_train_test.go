package main

import (
	"strings"
	"testing"
)

func TestTrainCommandErrors(t *testing.T) {
	cases := []struct {
		name string
		run  func([]string) error
		args []string
		want string
	}{
		{"train without flags", runTrain, nil, "usage: gominitron train"},
		{"train missing recipe", runTrain, []string{"--recipe", "no/such/recipe.json", "--out", t.TempDir()}, "no/such/recipe.json"},
		{"finetune without flags", runFinetune, nil, "usage: gominitron finetune"},
		{"finetune missing model", runFinetune, []string{"--model", "no/such/model", "--data", "x.jsonl", "--out", t.TempDir()}, "no/such/model"},
	}
	for _, c := range cases {
		err := c.run(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
