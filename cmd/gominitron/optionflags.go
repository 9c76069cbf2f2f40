package main

import (
	"regexp"
)

// optionFlags maps the library option fields that library errors name
// ("distill: Options.Steps must be > 0") to the flags that set them, so the
// CLI reports the flag ("distill: --steps must be > 0"). Library errors
// never name flags (a notebook has none); TestLibraryErrorsNameNoFlags keeps
// it so. Keys are "Type.Field"; a package qualifier before them
// ("importance.Options.BlockSize") is replaced too.
var optionFlags = map[string]string{
	// distill.Options (gominitron distill), reproduce.Options (gominitron reproduce)
	"Options.Teacher": "--teacher",
	"Options.Student": "--student",
	"Options.Data":    "--data",
	"Options.Out":     "--out",
	"Options.RunDir":  "--run-dir",
	"Options.Steps":   "--steps",
	"Options.Resume":  "--resume",
	"Options.Scale":   "--scale",
	// importance.Options (gominitron importance)
	"Options.BlockSize": "--blocks",
	// train.RecipeOptions (gominitron train), train.FinetuneOptions (gominitron finetune)
	"RecipeOptions.Resume":      "--resume",
	"FinetuneOptions.Resume":    "--resume",
	"FinetuneOptions.OutDir":    "--out",
	"FinetuneOptions.ModelDir":  "--model",
	"FinetuneOptions.Tokenizer": "--tokenizer",
	// evaluate.Encoder (gominitron eval)
	"Encoder.AddBOS": "--add-bos",
	// data.Source, data.PackOptions (gominitron data pack, tokenize)
	"Source.Field":    "--field",
	"PackOptions.EOS": "--eos",
}

// optionField matches "[pkg.]Type.Field" where Type is a library options type.
var optionField = regexp.MustCompile(`\b(?:[a-z]+\.)?((?:[A-Z]\w*)?(?:Options|Source|Encoder)\.[A-Z]\w*)\b`)

// flagNamed rewrites the option fields err names into their flags (nil stays
// nil; errors.Is/As still reach the library error).
func flagNamed(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	out := optionField.ReplaceAllStringFunc(msg, func(m string) string {
		field := optionField.FindStringSubmatch(m)[1]
		if f, ok := optionFlags[field]; ok {
			return f
		}
		return m
	})
	if out == msg {
		return err
	}
	return &flagNamedError{msg: out, err: err}
}

type flagNamedError struct {
	msg string
	err error
}

func (e *flagNamedError) Error() string { return e.msg }
func (e *flagNamedError) Unwrap() error { return e.err }
