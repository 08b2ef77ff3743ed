package convert_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/convert"
)

// dialectRuns are real runs of every results.csv dialect: Ultralytics
// 8.3.9+ (plain, time column), 8.0.162-8.3.8 (padded, 1-based), before
// 8.0.162 (padded, 0-based) and YOLOv5 (opt.yaml and hyp.yaml).
var dialectRuns = []string{
	fixtures + "/detect",
	githubDir + "/BabyMelvin__yolo_learn__runs__detect__train",
	githubDir + "/rafaelpadilla__tennis_autodistill__runs__detect__train",
	githubDir + "/A-Alviento__rock-paper-scissors-yolo-object-detection__runs__detect__train",
	githubDir + "/483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp",
}

// settingsOnly copies a run's settings files and results.csv (nothing
// else) into a new directory.
func settingsOnly(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	os.MkdirAll(dst, 0o755)
	for _, name := range []string{"args.yaml", "opt.yaml", "hyp.yaml", "results.csv"} {
		if data, err := os.ReadFile(filepath.Join(src, name)); err == nil {
			os.WriteFile(filepath.Join(dst, name), data, 0o644)
		}
	}
	return dst
}

// setField replaces field col of data row n (0-based) of a results.csv
// with v, right-aligned to the field's width as the padded formats write
// it.
func setField(t testing.TB, dir string, n, col int, v string) {
	t.Helper()
	p := filepath.Join(dir, "results.csv")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	fields := strings.Split(lines[n+1], ",")
	if w := len(fields[col]); strings.HasPrefix(fields[col], " ") && len(v) < w {
		v = strings.Repeat(" ", w-len(v)) + v
	}
	fields[col] = v
	lines[n+1] = strings.Join(fields, ",")
	os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644)
}

// keepRows cuts a results.csv to its header and first n rows.
func keepRows(t testing.TB, dir string, n int) {
	t.Helper()
	p := filepath.Join(dir, "results.csv")
	data, _ := os.ReadFile(p)
	lines := strings.SplitAfter(string(data), "\n")
	os.WriteFile(p, []byte(strings.Join(lines[:n+1], "")), 0o644)
}

func readID(t testing.TB, dir string) string {
	t.Helper()
	r, err := convert.Read(context.Background(), dir, convert.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.Info.RunID
}

// TestRunID_SameSettingsOtherResults: directories with the same settings
// but other results are other runs, in every results.csv dialect; a copy
// (times not kept) and the run seen earlier are the same run.
func TestRunID_SameSettingsOtherResults(t *testing.T) {
	for _, src := range dialectRuns {
		t.Run(filepath.Base(src), func(t *testing.T) {
			ids := map[string]int{}
			for i := 0; i < 3; i++ {
				dir := settingsOnly(t, src)
				setField(t, dir, 0, 3, fmt.Sprintf("0.%d1234", i+1))
				ids[readID(t, dir)] = i
			}
			if len(ids) != 3 {
				t.Errorf("3 runs with the same settings and other first rows have %d ids", len(ids))
			}
			orig := settingsOnly(t, src)
			id := readID(t, orig)
			if got := readID(t, copyDir(t, orig)); got != id {
				t.Errorf("a copy has id %s, the run %s", got, id)
			}
			earlier := copyDir(t, orig)
			keepRows(t, earlier, 1)
			if got := readID(t, earlier); got != id {
				t.Errorf("the run after its first epoch has id %s, finished %s", got, id)
			}
		})
	}
}

// TestRunID_ResumeKeepsID: resuming rewrites the settings file as
// Ultralytics' check_resume (and YOLOv5's train.py) does, and appends rows
// again for the epochs after the checkpoint: the run keeps its id.
func TestRunID_ResumeKeepsID(t *testing.T) {
	for _, tc := range []struct {
		name, src, file string
		edits           map[string]string // setting → the value a resume writes
	}{
		{"Ultralytics", fixtures + "/detect", "args.yaml", map[string]string{
			"model": "/home/trainer/runs/detect/weights/last.pt", "resume": "/home/trainer/runs/detect/weights/last.pt",
			"batch": "16", "imgsz": "128", "workers": "0", "warmup_bias_lr": "0.0", "device": "'0'", "patience": "5",
		}},
		{"YOLOv5", githubDir + "/483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp", "opt.yaml", map[string]string{
			"weights": "runs/train/exp/weights/last.pt", "cfg": "''", "resume": "true",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := settingsOnly(t, tc.src)
			id := readID(t, dir)
			p := filepath.Join(dir, tc.file)
			data, _ := os.ReadFile(p)
			lines := strings.Split(string(data), "\n")
			for i, l := range lines {
				k, _, ok := strings.Cut(l, ":")
				if v, edit := tc.edits[k]; ok && edit {
					lines[i] = k + ": " + v
				}
			}
			os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644)
			res, _ := os.ReadFile(filepath.Join(dir, "results.csv"))
			rows := strings.SplitAfter(string(res), "\n")
			os.WriteFile(filepath.Join(dir, "results.csv"), []byte(string(res)+rows[len(rows)-2]), 0o644) // the last epoch again
			if got := readID(t, dir); got != id {
				t.Errorf("resumed: id %s, before %s", got, id)
			}
			// A setting a resume does not touch is part of the identity.
			for i, l := range lines {
				if strings.HasPrefix(l, "epochs: ") {
					lines[i] = "epochs: 1000"
				}
			}
			os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644)
			if got := readID(t, dir); got == id {
				t.Error("other epochs keep the id")
			}
		})
	}
}

// TestRunID_NoRowsYet: a training run stopped before its first epoch ended
// has no results row; its id comes from its files, so two such runs with
// the same settings differ when their files do, and a copy keeps its id.
func TestRunID_NoRowsYet(t *testing.T) {
	run := func(batch string) string {
		dir := filepath.Join(t.TempDir(), "train")
		os.MkdirAll(dir, 0o755)
		for _, n := range []string{"args.yaml", "labels.jpg"} {
			data, _ := os.ReadFile(filepath.Join(fixtures, "detect", n))
			os.WriteFile(filepath.Join(dir, n), data, 0o644)
		}
		data, _ := os.ReadFile(filepath.Join(fixtures, "detect", batch))
		os.WriteFile(filepath.Join(dir, "train_batch0.jpg"), data, 0o644)
		return dir
	}
	a, b := run("train_batch0.jpg"), run("train_batch1.jpg")
	if readID(t, a) == readID(t, b) {
		t.Error("two runs with other files have one id")
	}
	if readID(t, a) != readID(t, copyDir(t, a)) {
		t.Error("a copy has another id")
	}
	ev, err := convert.ReadEvidence(a)
	if ev != nil || err != nil {
		t.Errorf("evidence of a run without rows: %v, %v", ev, err)
	}
}

// TestRunID_ValKeepsV1: yolo val directories (identified by their files)
// keep the ids yoloarchive gave them before v2.
func TestRunID_ValKeepsV1(t *testing.T) {
	for dir, want := range map[string]string{
		fixtures + "/segment-val": "f60db6ead42229c636162aee4906bf65",
		githubDir + "/sunnguyen180200__Helmet_Detection__runs__detect__val": "28a7724ff05c252efb8a305c119270db",
	} {
		if got := readID(t, dir); got != want {
			t.Errorf("%s: id %s, want %s", filepath.Base(dir), got, want)
		}
	}
}
