package plots

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gominitron/gominitron/internal/fileio"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Default figure size and PNG resolution.
const (
	DefaultWidth  = 7 * vg.Inch
	DefaultHeight = 4 * vg.Inch
	PNGDPI        = 110
)

// PNG renders p at w×h (PNGDPI dots per inch) and returns the PNG bytes.
func PNG(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	if p == nil {
		return nil, fmt.Errorf("plots: nil plot")
	}
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PNGDPI))}
	return render(p, c)
}

// SVG renders p at w×h and returns the SVG document.
func SVG(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	if p == nil {
		return nil, fmt.Errorf("plots: nil plot")
	}
	return render(p, vgsvg.New(w, h))
}

func render(p *plot.Plot, c vg.CanvasWriterTo) (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: rendering failed: %v", r)
		}
	}()
	p.Draw(drawCanvas(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plots: encoding: %w", err)
	}
	return buf.Bytes(), nil
}

// Save renders p to path (format from the extension: .png or .svg), written
// atomically.
func Save(p *plot.Plot, path string, w, h vg.Length) error {
	var data []byte
	var err error
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		data, err = PNG(p, w, h)
	case ".svg":
		data, err = SVG(p, w, h)
	default:
		return fmt.Errorf("plots: %s: unsupported extension %q (want .png or .svg)", path, ext)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return fileio.WriteFile(path, data)
}
