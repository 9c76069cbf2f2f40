package kernel

import (
	"fmt"
	"html"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/gominitron/gominitron/plots"
)

// Show displays p inline as a PNG at the default figure size. Outside a
// notebook it prints one line naming the plot (use plots.Save for a file).
func Show(p *plot.Plot) error { return ShowSize(p, plots.DefaultWidth, plots.DefaultHeight) }

// ShowSize is Show at w×h.
func ShowSize(p *plot.Plot, w, h vg.Length) error {
	data, err := plots.PNG(p, w, h)
	if err != nil {
		return err
	}
	if !ui.notebook() {
		fmt.Fprintf(Out, "[plot %q: %d bytes of PNG; not in a notebook]\n", p.Title.Text, len(data))
		return nil
	}
	ui.png(data)
	return nil
}

// ShowSVG displays p inline as SVG (sharp at any zoom; embedded as HTML so
// that it survives conversion of the notebook to HTML).
func ShowSVG(p *plot.Plot) error {
	data, err := plots.SVG(p, plots.DefaultWidth, plots.DefaultHeight)
	if err != nil {
		return err
	}
	if !ui.notebook() {
		fmt.Fprintf(Out, "[plot %q: %d bytes of SVG; not in a notebook]\n", p.Title.Text, len(data))
		return nil
	}
	ui.svg(string(data))
	return nil
}

// Table displays rows under headers: an HTML table in a notebook, aligned
// text columns elsewhere. Every row must have len(headers) cells.
func Table(headers []string, rows [][]string) error {
	for i, r := range rows {
		if len(r) != len(headers) {
			return fmt.Errorf("kernel.Table: row %d has %d cells, want %d", i, len(r), len(headers))
		}
	}
	if ui.notebook() {
		ui.html(TableHTML(headers, rows))
		return nil
	}
	tw := tabwriter.NewWriter(Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// TableHTML renders an HTML table (cells escaped; numeric-looking cells
// right-aligned).
func TableHTML(headers []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString(`<table class="gominitron">` + "\n<thead><tr>")
	for _, h := range headers {
		b.WriteString("<th>" + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range r {
			if looksNumeric(c) {
				b.WriteString(`<td style="text-align:right">` + html.EscapeString(c) + "</td>")
			} else {
				b.WriteString(`<td style="text-align:left">` + html.EscapeString(c) + "</td>")
			}
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

func looksNumeric(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789.,-+eE%×x kMGTB", r) {
			return false
		}
	}
	return strings.ContainsAny(s, "0123456789")
}

// HTML displays raw HTML in a notebook; elsewhere it prints text (the HTML
// with tags stripped is not attempted: it prints the given fallback).
func HTML(htmlText, fallback string) {
	if ui.notebook() {
		ui.html(htmlText)
		return
	}
	fmt.Fprintln(Out, fallback)
}

// Plot displays the plot a plots function returns, or stops the cell with
// its error (see Check): kernel.Plot(plots.LayerImportance(scores)).
func Plot(p *plot.Plot, err error) {
	Check(err)
	Check(Show(p))
}
