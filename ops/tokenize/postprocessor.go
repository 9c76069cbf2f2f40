package tokenize

import (
	"encoding/json"
	"fmt"
)

// postProcessor adds special tokens around an encoded sequence.
type postProcessor interface {
	process(ids []int32) []int32
}

// templatePiece is either a special token's ids or the sequence itself.
type templatePiece struct {
	ids      []int32 // special token ids; nil for the sequence
	sequence bool
}

type templateProcessor struct{ single []templatePiece }

func (p templateProcessor) process(ids []int32) []int32 {
	out := make([]int32, 0, len(ids)+4)
	for _, pc := range p.single {
		if pc.sequence {
			out = append(out, ids...)
		} else {
			out = append(out, pc.ids...)
		}
	}
	return out
}

type postSeq []postProcessor

func (q postSeq) process(ids []int32) []int32 {
	for _, p := range q {
		ids = p.process(ids)
	}
	return ids
}

// wrapProcessor is BertProcessing/RobertaProcessing: cls A sep.
type wrapProcessor struct{ cls, sep int32 }

func (p wrapProcessor) process(ids []int32) []int32 {
	out := make([]int32, 0, len(ids)+2)
	out = append(out, p.cls)
	out = append(out, ids...)
	return append(out, p.sep)
}

type identityProcessor struct{}

func (identityProcessor) process(ids []int32) []int32 { return ids }

func parsePostProcessor(raw json.RawMessage) (postProcessor, error) {
	if isNull(raw) {
		return nil, nil
	}
	var head struct {
		Type   string `json:"type"`
		Single []struct {
			SpecialToken *struct {
				ID string `json:"id"`
			} `json:"SpecialToken"`
			Sequence *struct {
				ID string `json:"id"`
			} `json:"Sequence"`
		} `json:"single"`
		SpecialTokens map[string]struct {
			IDs []int32 `json:"ids"`
		} `json:"special_tokens"`
		Processors []json.RawMessage `json:"processors"`
		Cls        []json.RawMessage `json:"cls"`
		Sep        []json.RawMessage `json:"sep"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	switch head.Type {
	case "TemplateProcessing":
		var p templateProcessor
		for i, pc := range head.Single {
			switch {
			case pc.Sequence != nil:
				if pc.Sequence.ID != "A" {
					return nil, fmt.Errorf("post_processor TemplateProcessing single[%d]: sequence %q in a single template", i, pc.Sequence.ID)
				}
				p.single = append(p.single, templatePiece{sequence: true})
			case pc.SpecialToken != nil:
				st, ok := head.SpecialTokens[pc.SpecialToken.ID]
				if !ok {
					return nil, fmt.Errorf("post_processor TemplateProcessing: special token %q missing from special_tokens", pc.SpecialToken.ID)
				}
				p.single = append(p.single, templatePiece{ids: st.IDs})
			default:
				return nil, fmt.Errorf("post_processor TemplateProcessing single[%d]: neither SpecialToken nor Sequence", i)
			}
		}
		return p, nil
	case "ByteLevel":
		return identityProcessor{}, nil
	case "BertProcessing", "RobertaProcessing":
		var cls, sep struct {
			id int32
		}
		if len(head.Cls) != 2 || len(head.Sep) != 2 {
			return nil, fmt.Errorf("post_processor %s: cls/sep must be [token, id]", head.Type)
		}
		if err := json.Unmarshal(head.Cls[1], &cls.id); err != nil {
			return nil, fmt.Errorf("post_processor %s cls: %w", head.Type, err)
		}
		if err := json.Unmarshal(head.Sep[1], &sep.id); err != nil {
			return nil, fmt.Errorf("post_processor %s sep: %w", head.Type, err)
		}
		return wrapProcessor{cls: cls.id, sep: sep.id}, nil
	case "Sequence":
		seq, err := parseSequence("post_processor", head.Processors, parsePostProcessor)
		if err != nil {
			return nil, err
		}
		return postSeq(seq), nil
	}
	return nil, fmt.Errorf("unsupported post_processor type %q", head.Type)
}
