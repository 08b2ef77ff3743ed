package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand"
	"os"
	"path/filepath"

	"github.com/yoloarchive/yoloarchive/vision/mask"
	"github.com/yoloarchive/yoloarchive/vision/masktest"
)

// addJPEGs writes n distinct 640×640 JPEGs of smooth noise (about 200 KB
// each, incompressible like photographs) as val_batch{i}_pred.jpg.
func addJPEGs(rng *rand.Rand, dir string, n int) error {
	img := image.NewRGBA(image.Rect(0, 0, 640, 640))
	for i := 0; i < n; i++ {
		for y := 0; y < 640; y++ {
			for x := 0; x < 640; x++ {
				v := uint8(rng.Intn(256))
				img.Set(x, y, color.RGBA{v, uint8(x/3) + v/4, uint8(y/3) + v/4, 255})
			}
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("val_batch%d_pred.jpg", i)), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// addWeights writes weights/best.pt and weights/last.pt of mb/2 megabytes
// each: five sixths random bytes and one sixth zeros, like a checkpoint.
func addWeights(rng *rand.Rand, dir string, mb int) error {
	if err := os.MkdirAll(filepath.Join(dir, "weights"), 0o755); err != nil {
		return err
	}
	size := mb << 20 / 2
	for _, name := range []string{"best.pt", "last.pt"} {
		data := make([]byte, size)
		rng.Read(data[:size*5/6])
		if err := os.WriteFile(filepath.Join(dir, "weights", name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// addMasks writes a predictions.json of n segment predictions on 640×640
// images, ten per image, each with a COCO RLE mask (compressed string
// form, as Ultralytics writes it) of one irregular object.
func addMasks(rng *rand.Rand, dir string, n int) error {
	type seg struct {
		Size   [2]int `json:"size"`
		Counts string `json:"counts"`
	}
	type pred struct {
		ImageID      string     `json:"image_id"`
		CategoryID   int        `json:"category_id"`
		BBox         [4]float64 `json:"bbox"`
		Score        float64    `json:"score"`
		Segmentation seg        `json:"segmentation"`
	}
	preds := make([]pred, n)
	m := make([]byte, 640*640)
	for i := range preds {
		clear(m)
		masktest.Object(rng, m, 640, 640, 1+rng.Intn(3), 10+rng.Float64()*110)
		r := mask.Encode(640, 640, m)
		b := r.Bounds()
		preds[i] = pred{
			ImageID:      fmt.Sprintf("img_%05d", i/10),
			CategoryID:   rng.Intn(4),
			BBox:         [4]float64{float64(b.X0), float64(b.Y0), float64(b.Dx()), float64(b.Dy())},
			Score:        float64(rng.Intn(100000)) / 100000,
			Segmentation: seg{[2]int{640, 640}, r.String()},
		}
	}
	data, err := json.Marshal(preds)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "predictions.json"), data, 0o644)
}
