// Command synthruns writes synthetic training run directories for scale
// tests and benchmarks: n runs, each a copy of a real run's settings with
// its own name (so its own run id), a results.csv of the given number of
// epochs in one of the real formats (Ultralytics plain with a time column,
// 8.3.9+; padded 1-based, 8.0.162-8.3.8; padded 0-based, before 8.0.162;
// YOLOv5), images, and, with -predictions, the segment fixture's
// predictions.json with its RLE masks. For the benchmarks, -jpegs adds
// distinct photo-like JPEGs, -weights-mb checkpoint-like weights and
// -masks a predictions.json of that many 640x640 masks. With -same-settings every run keeps
// its template's settings unchanged (the same args.yaml in every run of a
// template, as in a backfill of many users' tutorial runs): the runs still
// differ by their results, so they are still different runs.
//
//	go run ./scripts/synthruns -n 100 -epochs 300 -images 25 -o /tmp/runs
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// template is a real run whose settings and results.csv format a
// synthetic run copies.
type template struct {
	dir      string
	settings []string // settings files to copy, the first holds name and save_dir
	padded   bool     // header and fields right-aligned to the header's widths
	base     int      // first epoch number
	time     bool     // a time column after epoch
}

var templates = []template{
	{"testdata/github-runs/public/BabyMelvin__yolo_learn__runs__detect__train", []string{"args.yaml"}, false, 1, true},
	{"testdata/github-runs/public/rafaelpadilla__tennis_autodistill__runs__detect__train", []string{"args.yaml"}, true, 1, false},
	{"testdata/github-runs/public/A-Alviento__rock-paper-scissors-yolo-object-detection__runs__detect__train", []string{"args.yaml"}, true, 0, false},
	{"testdata/github-runs/public/483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp", []string{"opt.yaml", "hyp.yaml"}, true, 0, false},
}

const sample = "testdata/ultralytics-8.3.166/segment-savejson"

func main() {
	n := flag.Int("n", 10, "number of runs")
	epochs := flag.Int("epochs", 300, "epochs per run")
	images := flag.Int("images", 25, "images per run")
	predictions := flag.Bool("predictions", false, "add the segment fixture's predictions.json (RLE masks) to Ultralytics runs")
	out := flag.String("o", "", "output directory (required)")
	seed := flag.Int64("seed", 1, "random seed")
	root := flag.String("root", ".", "repository root (for the templates)")
	same := flag.Bool("same-settings", false, "keep the templates' settings (name, save_dir, epochs) unchanged")
	jpegs := flag.Int("jpegs", 0, "add this many distinct 640x640 JPEGs (about 200 KB each) to every run")
	weights := flag.Int("weights-mb", 0, "add weights/best.pt and last.pt of this many megabytes in all to every run")
	masks := flag.Int("masks", 0, "write a predictions.json of this many 640x640 COCO RLE masks into every run")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "synthruns: -o DIR is required")
		os.Exit(2)
	}
	rng := rand.New(rand.NewSource(*seed))
	for i := 0; i < *n; i++ {
		dir := filepath.Join(*out, fmt.Sprintf("synth-%05d", i))
		err := writeRun(rng, *root, dir, i, *epochs, *images, *predictions, *same)
		if err == nil && *jpegs > 0 {
			err = addJPEGs(rng, dir, *jpegs)
		}
		if err == nil && *weights > 0 {
			err = addWeights(rng, dir, *weights)
		}
		if err == nil && *masks > 0 {
			err = addMasks(rng, dir, *masks)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "synthruns:", err)
			os.Exit(1)
		}
	}
}

var nameRe = regexp.MustCompile(`(?m)^(name|save_dir|epochs): .*$`)

func writeRun(rng *rand.Rand, root, dir string, i, epochs, images int, predictions, same bool) error {
	t := templates[i%len(templates)]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := filepath.Base(dir)
	for k, s := range t.settings {
		data, err := os.ReadFile(filepath.Join(root, t.dir, s))
		if err != nil {
			return err
		}
		if k == 0 && !same {
			data = nameRe.ReplaceAllFunc(data, func(m []byte) []byte {
				key, _, _ := strings.Cut(string(m), ":")
				switch key {
				case "name":
					return []byte("name: " + name)
				case "save_dir":
					return []byte("save_dir: runs/synth/" + name)
				}
				return []byte("epochs: " + strconv.Itoa(epochs))
			})
		}
		if err := os.WriteFile(filepath.Join(dir, s), data, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "results.csv"), results(rng, root, t, epochs), 0o644); err != nil {
		return err
	}
	pics := []string{"results.png", "confusion_matrix.png", "confusion_matrix_normalized.png", "labels.jpg",
		"BoxPR_curve.png", "BoxF1_curve.png", "BoxP_curve.png", "BoxR_curve.png", "train_batch0.jpg", "train_batch1.jpg", "train_batch2.jpg"}
	for k := 0; k < images; k++ {
		src, dst := "", ""
		if k < len(pics) {
			// Curve names before 8.3.162, as every template's version.
			src, dst = pics[k], strings.TrimPrefix(pics[k], "Box")
		} else {
			j := k - len(pics)
			src = []string{"val_batch0_labels.jpg", "val_batch0_pred.jpg"}[j%2]
			dst = fmt.Sprintf("val_batch%d_%s.jpg", j/2, []string{"labels", "pred"}[j%2])
		}
		data, err := os.ReadFile(filepath.Join(root, sample, src))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			return err
		}
	}
	if predictions && !t.padded {
		data, err := os.ReadFile(filepath.Join(root, sample, "predictions.json"))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "predictions.json"), data, 0o644)
	}
	return nil
}

// results writes a results.csv with the template's header and format and
// random values: losses falling, metrics rising, with noise.
func results(rng *rand.Rand, root string, t template, epochs int) []byte {
	data, _ := os.ReadFile(filepath.Join(root, t.dir, "results.csv"))
	header, _, _ := strings.Cut(string(data), "\n")
	cells := strings.Split(header, ",")
	var b strings.Builder
	b.WriteString(header + "\n")
	for e := 0; e < epochs; e++ {
		progress := float64(e+1) / float64(epochs)
		for c, h := range cells {
			var v string
			name := strings.TrimSpace(h)
			switch {
			case c == 0:
				v = strconv.Itoa(e + t.base)
			case name == "time":
				v = strconv.FormatFloat(float64(e+1)*31.7+rng.Float64(), 'f', 3, 64)
			case strings.Contains(name, "loss"):
				v = strconv.FormatFloat((2-1.5*progress)*(0.9+0.2*rng.Float64()), 'g', 6, 64)
			case strings.HasPrefix(name, "lr/") || strings.HasPrefix(name, "x/"):
				v = strconv.FormatFloat(0.01*(1-progress)+1e-5, 'g', 5, 64)
			default:
				v = strconv.FormatFloat(min(1, progress*(0.5+0.5*rng.Float64())), 'g', 5, 64)
			}
			if t.padded {
				v = fmt.Sprintf("%*s", len(h), v)
			}
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
