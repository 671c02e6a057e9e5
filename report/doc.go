// Package report writes experiment reports that researchers can look at
// rather than read: a Markdown file for the repository, a self-contained
// HTML page to mail or open in a browser, the figures as PNG and SVG, and
// the tables as CSV.
//
// A Report is plain data: a title, an introduction, sections holding
// tables and figures, and metadata about the run (command, version,
// backend, date, run time). Figures are either a declarative Plot (line,
// grouped bar or scatter chart, with shaded bands or error bars, log axes
// and horizontal reference lines) or a raster image such as the tiles made
// by ImageGrid. Report.Write renders everything into a directory:
//
//	DIR/report.md          GitHub-flavoured Markdown; figures referenced as PNG
//	DIR/report.html        one file: inline CSS, figures embedded as data URIs
//	DIR/figures/NAME.png   every figure (plots at 7×4.5 in, 150 dpi)
//	DIR/figures/NAME.svg   every Plot, as vector graphics
//	DIR/tables/NAME.csv    every table
//
// Each file is written atomically (internal/atomicfile), and the output is
// a pure function of the Report: writing the same report twice gives the
// same bytes, so reports can be committed and diffed. Nothing time-dependent
// is added; put the date in Meta if it should appear.
//
// Plots use the Okabe–Ito palette, which stays distinguishable under the
// common forms of colour blindness (see Palette), a light grid, a legend
// above the data area (or beside it, when long) where it never hides
// data, translucent error bands, and sans-serif text sized for the page. Non-finite values (NaN, ±Inf),
// and non-positive values on a log axis, are skipped: a line is broken
// there and a bar is left out, so missing results show as gaps instead of
// failing the whole report.
package report
