// Package report writes the HTML report of several archives: one
// self-contained file (uPlot and the page's script inlined, images as data
// URIs) with every run's curves, best and final values, the parameters
// that differ, each run's status and gaps, the saved plots and a gallery
// of validation images with their annotations drawn as overlays. It needs
// no network and works from file://.
//
// The metric summaries ([Values], [Goal]) are the ones inspect prints for
// several archives, so that the report and the terminal agree.
package report
