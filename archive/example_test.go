package archive_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// Example writes an archive with one table and one blob, then reads the
// table back from the verified archive.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	img := filepath.Join(dir, "train_batch0.jpg")
	os.WriteFile(img, []byte("jpeg bytes"), 0o644)

	dst := filepath.Join(dir, "run.tar.zst")
	w, err := archive.Create(dst, schemas.Header{
		RunID:      "00112233445566778899aabbccddeeff",
		SourceKind: schemas.SourceUltralyticsTrain,
		Writer:     "example",
		Tables:     []string{schemas.TableScalars},
	}, archive.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Abort()
	archive.WriteRows(w, schemas.TableScalars, []schemas.ScalarRow{
		{Metric: "metrics/mAP50-95(B)", Epoch: 1, Value: 0.25, Origin: "results.csv"},
		{Metric: "metrics/mAP50-95(B)", Epoch: 2, Value: 0.5, Origin: "results.csv"},
	})
	sum, _ := archive.HashFile(img)
	w.AddFile(sum, img)
	if _, _, err := w.Close(context.Background()); err != nil {
		fmt.Println(err)
		return
	}

	a, err := archive.Open(context.Background(), dst)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	rows, _ := archive.ReadTable[schemas.ScalarRow](context.Background(), a, schemas.TableScalars)
	for _, r := range rows {
		fmt.Println(r.Metric, r.Epoch, r.Value)
	}
	fmt.Println(len(a.Manifest.Entries), "entries before the manifest")
	// Output:
	// metrics/mAP50-95(B) 1 0.25
	// metrics/mAP50-95(B) 2 0.5
	// 3 entries before the manifest
}
