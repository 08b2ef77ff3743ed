package sync_test

import (
	"context"
	"slices"
	"testing"

	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	_ "github.com/yoloarchive/yoloarchive/sync/clearml"
	_ "github.com/yoloarchive/yoloarchive/sync/comet"
	_ "github.com/yoloarchive/yoloarchive/sync/mlflow"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

func items(gaps []schemas.GapRow) []string {
	var out []string
	for _, g := range gaps {
		out = append(out, g.Item)
	}
	return out
}

// TestGapsFor_OldArchives reads archives written before format 1.5, whose
// gap rows name the trackers they affect (the affects column): the
// destinations' own say (Kind.Gaps) picks the same rows for ClearML and
// Comet as the column did, and MLflow, which no old row names, gets the
// gaps its callback's logging lacks.
func TestGapsFor_OldArchives(t *testing.T) {
	for _, tc := range []struct {
		archive string
		mlflow  []string
	}{
		{"v1.0-detect.tar.zst", []string{"model", "final_validation_metrics"}},
		{"v1.2-comet-yolov5.tar.zst", []string{"model"}},
	} {
		t.Run(tc.archive, func(t *testing.T) {
			run, err := ysync.Open(context.Background(), "../testdata/archives/"+tc.archive)
			if err != nil {
				t.Fatal(err)
			}
			defer run.Close()
			if len(run.Gaps) == 0 {
				t.Fatal("the archive has no gaps")
			}
			for _, tracker := range []string{"clearml", "comet"} {
				var want []string
				for _, g := range run.Gaps {
					if slices.Contains(g.Affects, tracker) {
						want = append(want, g.Item)
					}
				}
				if got := items(ysync.GapsFor(run.Gaps, tracker)); !slices.Equal(got, want) {
					t.Errorf("%s: gaps %q, want %q (the affects column)", tracker, got, want)
				}
			}
			if got := items(ysync.GapsFor(run.Gaps, "mlflow")); !slices.Equal(got, tc.mlflow) {
				t.Errorf("mlflow: gaps %q, want %q", got, tc.mlflow)
			}
		})
	}
}

// TestGapTrackers names, for inspect and report, the trackers whose
// destinations say a gap item matters to them.
func TestGapTrackers(t *testing.T) {
	for _, tc := range []struct {
		item string
		want []string
	}{
		{schemas.GapModel, []string{"clearml", "comet", "mlflow"}},
		{schemas.GapConfusionMatrixValues, []string{"comet"}},
		{schemas.GapEpochTime, []string{"clearml"}},
		{schemas.GapCometMessage("git metadata"), []string{"clearml"}},
		{schemas.GapSkippedFiles, nil},
		{"not_a_gap", nil},
	} {
		if got := ysync.GapTrackers(tc.item); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.item, got, tc.want)
		}
	}
}

// TestGaps_CaptureRecordsFacts: a capture's gap rows name no tracker (the
// deprecated affects column is written empty), and each destination still
// reports the gaps that matter to it.
func TestGaps_CaptureRecordsFacts(t *testing.T) {
	run, err := ysync.Open(context.Background(), synctest.Capture(t, synctest.WithWeights(t, "detect")))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	if run.Archive.Header.FormatVersion != schemas.FormatVersion {
		t.Fatalf("format %s", run.Archive.Header.FormatVersion)
	}
	for _, g := range run.Gaps {
		if len(g.Affects) != 0 {
			t.Errorf("gap %s names trackers %q", g.Item, g.Affects)
		}
	}
	for tracker, want := range map[string]string{
		"clearml": schemas.GapPerEpochValidationImages,
		"comet":   schemas.GapConfusionMatrixValues,
		"mlflow":  schemas.GapFinalValidationMetrics,
	} {
		got := items(ysync.GapsFor(run.Gaps, tracker))
		if !slices.Contains(got, want) {
			t.Errorf("%s: gaps %q, want %s among them", tracker, got, want)
		}
	}
}
