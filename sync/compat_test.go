package sync_test

import (
	"context"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestOpen_Format10 opens an archive written by format 1.0 (before the
// session columns and the logs table were added): it verifies, its tables
// read, and the columns 1.1 added read as empty.
func TestOpen_Format10(t *testing.T) {
	run, err := ysync.Open(context.Background(), "../testdata/archives/v1.0-detect.tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	run.Scalars = synctest.Scalars(t, run) // streamed, not held
	defer run.Close()
	if run.Archive.Header.FormatVersion != "1.0" {
		t.Fatalf("format %s", run.Archive.Header.FormatVersion)
	}
	if len(run.Scalars) != 42 || len(run.Images) != 14 || len(run.Params) == 0 || len(run.Logs) != 0 {
		t.Fatalf("scalars %d images %d params %d logs %d", len(run.Scalars), len(run.Images), len(run.Params), len(run.Logs))
	}
	for _, s := range run.Scalars {
		if s.Group != "" {
			t.Fatalf("scalar %+v has a group", s)
		}
	}
	for _, img := range run.Images {
		if img.Group != "" || img.Record != "" || img.WallTime != nil {
			t.Fatalf("image %+v has session fields", img)
		}
	}
	if run.Info.SessionID != "" || len(run.Info.Tags) != 0 {
		t.Logf("tags %q (%d)", run.Info.Tags, len(run.Info.Tags))
		t.Fatalf("run %+v", run.Info)
	}
}

// TestOpen_Format12 opens a Comet session archive written by format 1.2
// (testdata/archives/v1.2-comet-yolov5.tar.zst): the columns 1.3 added
// read as empty, not as parquet-go's [""] for a missing list column.
func TestOpen_Format12(t *testing.T) {
	run, err := ysync.Open(context.Background(), "../testdata/archives/v1.2-comet-yolov5.tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	run.Scalars = synctest.Scalars(t, run) // streamed, not held
	defer run.Close()
	if run.Archive.Header.FormatVersion != "1.2" || run.Info.Producer != "" {
		t.Fatalf("format %s, producer %q", run.Archive.Header.FormatVersion, run.Info.Producer)
	}
	lists := 0
	for _, p := range run.Params {
		if p.ItemTypes != nil || p.WallTime != nil {
			t.Fatalf("param %+v has 1.3 fields", p)
		}
		if p.Type == "list" {
			lists++
		}
	}
	for _, s := range run.Scalars {
		if s.SessionEpoch != nil {
			t.Fatalf("scalar %+v has a session epoch", s)
		}
	}
	if lists == 0 || len(run.Scalars) != 43 {
		t.Fatalf("%d lists, %d scalars", lists, len(run.Scalars))
	}
}
