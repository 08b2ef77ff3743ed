package contours

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/yoloarchive/yoloarchive/vision/mask"
)

// PolygonsFunc computes the polygons of a mask (vision.Polygons).
type PolygonsFunc func(mask.RLE) ([][]int32, error)

// Serve is the helper's side of the protocol: it greets on w with
// version (the helper's own description, such as its OpenCV version),
// then answers every request read from r with polygons(rle), up to
// GOMAXPROCS at once, until r ends. It returns nil at the end of r once
// every answer is written, and an error if r holds a malformed frame or w
// fails (the client is gone). A mask that polygons rejects, or that
// panics it, gets an error response; the helper goes on.
func Serve(r io.Reader, w io.Writer, version string, polygons PolygonsFunc) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := writeFrame(bw, hello(version)); err != nil {
		return fmt.Errorf("contours: write hello: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("contours: write hello: %w", err)
	}
	workers := runtime.GOMAXPROCS(0)
	answers := make(chan []byte, 2*workers)
	writeErr := make(chan error, 1)
	go func() {
		var err error
		for a := range answers {
			if err != nil {
				continue // drain: the client is gone
			}
			err = writeFrame(bw, a)
			if err == nil && len(answers) == 0 {
				err = bw.Flush()
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		writeErr <- err
	}()
	// Up to workers masks at once; reading waits for a free one.
	var g errgroup.Group
	g.SetLimit(workers)
	br := bufio.NewReaderSize(r, 64<<10)
	var readErr error
	for {
		frame, err := readFrame(br, nil)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		id, rle, err := parseRequest(frame)
		g.Go(func() error {
			var polys [][]int32
			if err == nil {
				polys, err = safePolygons(polygons, rle)
			}
			answers <- appendResponse(nil, id, polys, err)
			return nil // a mask's error is its answer
		})
	}
	g.Wait()
	close(answers)
	if err := <-writeErr; err != nil {
		return fmt.Errorf("contours: write answer: %w", err)
	}
	if readErr != nil {
		return fmt.Errorf("contours: read request: %w", readErr)
	}
	return nil
}

// safePolygons calls polygons, turning a panic into an error.
func safePolygons(polygons PolygonsFunc, r mask.RLE) (polys [][]int32, err error) {
	defer func() {
		if p := recover(); p != nil {
			polys, err = nil, fmt.Errorf("contours: mask %dx%d: panic: %v", r.Height, r.Width, p)
		}
	}()
	return polygons(r)
}
