package comet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas/cometoffline"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// asset is one planned upload.
type asset struct {
	call Call
	typ  string
}

func (a asset) id() string {
	return fmt.Sprintf("%s|%s|%s", a.call.File.Name, a.typ, optStr(a.call.Step))
}

func (s *replay) assets() []asset {
	var out []asset
	for _, c := range s.log.Calls {
		switch c.Kind {
		case KindImage:
			out = append(out, asset{c, "image"})
		case KindModel:
			out = append(out, asset{c, cometoffline.UploadModelElement})
		case KindConfusionMatrix:
			out = append(out, asset{c, cometoffline.UploadConfusionMatrix})
		case KindTable, KindAsset:
			out = append(out, asset{c, cometoffline.UploadAsset})
		}
	}
	return out
}

func (s *replay) serverAssets(ctx context.Context) (map[string]int64, error) {
	var list struct {
		Assets []struct {
			FileName string `json:"fileName"`
			Type     string `json:"type"`
			Step     *int64 `json:"step"`
			FileSize int64  `json:"fileSize"`
		} `json:"assets"`
	}
	if err := s.get(ctx, "experiment/asset/list", url.Values{"experimentKey": {s.key}}, &list); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, a := range list.Assets {
		out[fmt.Sprintf("%s|%s|%s", a.FileName, a.Type, optStr(a.Step))] = a.FileSize
	}
	return out, nil
}

// sendUploads sends images, the model, tables and assets the server
// lacks (uploads do not overwrite, so the list is read first).
func (s *replay) sendUploads(ctx context.Context) error {
	have, err := s.serverAssets(ctx)
	if err != nil {
		return err
	}
	var todo []asset
	var digests []string
	for _, a := range s.assets() {
		if size, ok := have[a.id()]; ok && size == a.call.File.Size {
			s.skipped++
			continue
		}
		todo = append(todo, a)
		if a.call.File.Data == nil {
			digests = append(digests, a.call.File.Digest)
		}
	}
	if len(todo) > 0 {
		s.task.Stage("extract", 0)
		blobs, err := s.run.Extract(ctx, digests)
		if err != nil {
			return err
		}
		defer blobs.Close()
		s.task.Stage("upload", int64(len(todo)))
		err = s.parallel(ctx, len(todo), func(ctx context.Context, i int) error {
			if err := s.upload(ctx, todo[i], blobs); err != nil {
				return err
			}
			s.task.Add(1)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *replay) upload(ctx context.Context, a asset, blobs *ysync.Blobs) error {
	c := a.call
	q := url.Values{"experimentKey": {s.key}, "fileName": {c.File.Name}, "type": {a.typ}}
	if ext := strings.TrimPrefix(path.Ext(c.File.Name), "."); ext != "" {
		q.Set("extension", ext)
	}
	if c.Step != nil {
		q.Set("step", strconv.FormatInt(*c.Step, 10))
	}
	if c.Epoch != nil {
		q.Set("epoch", strconv.FormatInt(*c.Epoch, 10))
	}
	if c.Kind == KindModel {
		q.Set("groupingName", c.Name)
		q.Set("overwrite", strconv.FormatBool(c.Overwrite))
	}
	meta, err := uploadMetadata(c)
	if err != nil {
		return err
	}
	boundary := multipart.NewWriter(io.Discard).Boundary()
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.SetBoundary(boundary)
	if meta != nil {
		if err := mw.WriteField("metadata", string(meta)); err != nil {
			return err
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, c.File.Name))
	h.Set("Content-Type", "application/octet-stream")
	if _, err := mw.CreatePart(h); err != nil {
		return err
	}
	tail := "\r\n--" + boundary + "--\r\n"
	var f io.ReadCloser
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	body := func() (io.Reader, error) {
		if f != nil {
			f.Close()
		}
		if c.File.Data != nil {
			f = io.NopCloser(bytes.NewReader(c.File.Data))
		} else {
			var err error
			if f, err = blobs.Open(c.File.Digest); err != nil {
				return nil, err
			}
		}
		return io.MultiReader(bytes.NewReader(head.Bytes()), f, strings.NewReader(tail)), nil
	}
	hdr := s.header()
	hdr.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	// Not idempotent: a lost answer may mean a stored image; the
	// read-back finds it and the next run skips it.
	return s.do(ysync.NotIdempotent(ctx), "POST", "write/experiment/upload-asset?"+q.Encode(), hdr, body,
		int64(head.Len())+c.File.Size+int64(len(tail)), nil)
}

// uploadMetadata is the metadata form part of an upload: a captured
// session's as it recorded it (the user's metadata, with the annotations
// the SDK merged into it), else the annotation layers; nil for none.
func uploadMetadata(c Call) ([]byte, error) {
	if m, ok := c.Upload["metadata"].(map[string]any); ok && len(m) > 0 {
		return toJSON(m)
	}
	if len(c.Annotations) > 0 {
		return toJSON(map[string]any{"annotations": annotationsJSON(c.Annotations)})
	}
	return nil, nil
}
