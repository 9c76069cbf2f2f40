package distill

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
)

// LayerPair maps the output of student layer Student to the output of
// teacher layer Teacher (0-based transformer layer indices).
type LayerPair struct {
	Student int `json:"student"`
	Teacher int `json:"teacher"`
}

// ISLoss names the intermediate-state loss.
type ISLoss string

const (
	ISCosine ISLoss = "cosine" // 1 − cos(W·ĥ_s + b, ĥ_t) per token (the paper's choice)
	ISMSE    ISLoss = "mse"    // mean over teacher channels of (W·ĥ_s + b − ĥ_t)²
)

// ParseISLoss checks an intermediate-loss name.
func ParseISLoss(s string) (ISLoss, error) {
	switch l := ISLoss(s); l {
	case ISCosine, ISMSE:
		return l, nil
	case "":
		return ISCosine, nil
	}
	return "", fmt.Errorf("distill: unknown intermediate loss %q (want cosine or mse)", s)
}

// DefaultLayerMap is the paper's "last−2 : last−2" pair (last = numLayers−1,
// so both indices are numLayers−3, clamped at 0). When the student is
// shallower, the teacher layer is the one at the same depth fraction:
// t = round((s+1)·teacherLayers/studentLayers) − 1.
func DefaultLayerMap(studentLayers, teacherLayers int) []LayerPair {
	s := max(studentLayers-3, 0)
	if studentLayers == teacherLayers {
		return []LayerPair{{s, max(teacherLayers-3, 0)}}
	}
	return []LayerPair{{s, depthFraction(s, studentLayers, teacherLayers)}}
}

func depthFraction(s, studentLayers, teacherLayers int) int {
	t := int(math.Round(float64(s+1)*float64(teacherLayers)/float64(studentLayers))) - 1
	return min(max(t, 0), teacherLayers-1)
}

// ParseLayerMap parses "s1:t1,s2:t2" where each index is a 0-based layer
// number, "last" (numLayers−1) or "last-K", e.g. "last-2:last-2,3:7".
// "default" (or "") gives DefaultLayerMap.
func ParseLayerMap(spec string, studentLayers, teacherLayers int) ([]LayerPair, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "default" {
		return DefaultLayerMap(studentLayers, teacherLayers), nil
	}
	var pairs []LayerPair
	for _, item := range strings.Split(spec, ",") {
		s, t, ok := strings.Cut(strings.TrimSpace(item), ":")
		if !ok {
			return nil, fmt.Errorf("distill: layer pair %q in %q is not student:teacher", item, spec)
		}
		si, err := layerIndex(s, studentLayers, "student")
		if err != nil {
			return nil, fmt.Errorf("distill: layer map %q: %w", spec, err)
		}
		ti, err := layerIndex(t, teacherLayers, "teacher")
		if err != nil {
			return nil, fmt.Errorf("distill: layer map %q: %w", spec, err)
		}
		pairs = append(pairs, LayerPair{si, ti})
	}
	return pairs, nil
}

func layerIndex(s string, numLayers int, who string) (int, error) {
	s = strings.TrimSpace(s)
	var idx int
	switch {
	case s == "last":
		idx = numLayers - 1
	case strings.HasPrefix(s, "last-"):
		k, err := strconv.Atoi(strings.TrimPrefix(s, "last-"))
		if err != nil || k < 0 {
			return 0, fmt.Errorf("bad %s layer %q", who, s)
		}
		idx = numLayers - 1 - k
	default:
		k, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("bad %s layer %q (want a number, last or last-K)", who, s)
		}
		idx = k
	}
	if idx < 0 || idx >= numLayers {
		return 0, fmt.Errorf("%s layer %q is out of range 0..%d", who, s, numLayers-1)
	}
	return idx, nil
}

// FormatLayerMap writes pairs back as "s:t,s:t".
func FormatLayerMap(pairs []LayerPair) string {
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = fmt.Sprintf("%d:%d", p.Student, p.Teacher)
	}
	return strings.Join(parts, ",")
}

// normEps is the ε of the parameter-free RMS normalization of hidden states.
const normEps = 1e-6

// cosEps keeps the cosine finite for zero vectors.
const cosEps = 1e-12

// RMSNormalize is x / sqrt(mean(x²) + ε) over the last axis, in float32,
// without a weight: hidden states are compared "after normalization" (paper)
// so the raw residual stream's scale does not dominate.
func RMSNormalize(x *Node) *Node {
	x = ConvertDType(x, dtypes.Float32)
	ms := ReduceAndKeep(Square(x), ReduceMean, -1)
	return Div(x, Sqrt(AddScalar(ms, normEps)))
}

// Project applies the learned map student width → teacher width:
// x [..., studentHidden] · weightᵀ + bias, weight [teacherHidden,
// studentHidden], bias [teacherHidden]; float32.
func Project(x, weight, bias *Node) *Node {
	y := DotGeneral(ConvertDType(x, dtypes.Float32), []int{x.Rank() - 1}, nil, weight, []int{1}, nil)
	return Add(y, alignLast(bias, y.Rank()))
}

func alignLast(v *Node, rank int) *Node {
	for v.Rank() < rank {
		v = InsertAxes(v, 0)
	}
	return v
}

// TokenStateLoss is the per-position intermediate-state loss between the
// projected student state and the teacher state ([..., teacherHidden] float32
// each): [...].
func TokenStateLoss(projected, teacher *Node, kind ISLoss) *Node {
	switch kind {
	case ISCosine, "":
		dot := ReduceSum(Mul(projected, teacher), -1)
		n2 := Mul(ReduceSum(Square(projected), -1), ReduceSum(Square(teacher), -1))
		cos := Div(dot, Sqrt(AddScalar(n2, cosEps)))
		return OneMinus(cos)
	case ISMSE:
		return ReduceMean(Square(Sub(projected, teacher)), -1)
	}
	panic(fmt.Sprintf("distill: unknown intermediate loss %q", kind))
}
