// Package chain reads and merges delta chains: the archives `capture
// --follow` writes while a run trains (run.000.tar.zst, run.001.tar.zst,
// …), each holding what changed since its predecessor (FORMAT.md §8).
package chain

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// whole are the tables a link holds whole: run, summary and gaps; keyed
// the others, whose rows a link adds or replaces by key.
var (
	whole = []string{schemas.TableRun, schemas.TableSummary, schemas.TableGaps}
	keyed = []string{schemas.TableScalars, schemas.TableParams, schemas.TableImages, schemas.TableAnnotations, schemas.TableAssets, schemas.TableLogs}
)

// Row keys: two rows with the same key are the same row at two moments;
// the later one wins. The run row, the summary (the best epoch so far)
// and the gaps are replaced whole.
func scalarKey(r *schemas.ScalarRow) string {
	return r.Metric + "\x00" + r.Group + "\x00" + strconv.FormatInt(r.Epoch, 10) + "\x00" + optInt(r.Step) + "\x00" + r.Origin
}
func paramKey(r *schemas.ParamRow) string { return r.Section + "\x00" + r.Key }
func imageKey(r *schemas.ImageRow) string {
	return r.Role + "\x00" + r.FileName + "\x00" + r.Name + "\x00" + r.Group + "\x00" + r.Series + "\x00" + optInt(r.Step)
}
func annotationKey(r *schemas.AnnotationRow) string {
	return r.Image + "\x00" + r.Layer + "\x00" + r.Origin + "\x00" + strconv.FormatInt(r.Index, 10)
}
func assetKey(r *schemas.AssetRow) string { return r.Role + "\x00" + r.FileName }
func logKey(r *schemas.LogRow) string     { return canon(r) }

func optInt(p *int64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatInt(*p, 10)
}

// Apply merges the delta d into t: keyed rows replace the row with the
// same key where it stands, new rows are appended, and d's run row,
// summary and gaps replace t's. Images and assets of a run directory are
// then put back in the order a full capture writes them.
func Apply(t, d *archive.Tables) {
	t.Info = d.Info
	t.Scalars = upsert(t.Scalars, d.Scalars, scalarKey)
	t.Params = upsert(t.Params, d.Params, paramKey)
	t.Summary = append([]schemas.SummaryRow(nil), d.Summary...)
	t.Images = upsert(t.Images, d.Images, imageKey)
	t.Annotations = upsert(t.Annotations, d.Annotations, annotationKey)
	t.Assets = upsert(t.Assets, d.Assets, assetKey)
	t.Gaps = append([]schemas.GapRow(nil), d.Gaps...)
	t.Logs = upsert(t.Logs, d.Logs, logKey)
	normalize(t)
}

// normalize orders a run directory's images and assets as a capture lists
// them (by path, the dataset's images after the run's), so a merged chain
// replays exactly as a single archive of the finished run.
func normalize(t *archive.Tables) {
	switch t.Info.SourceKind {
	case schemas.SourceUltralyticsTrain, schemas.SourceUltralyticsVal, schemas.SourceYOLOv5Train:
	default:
		return
	}
	sort.SliceStable(t.Images, func(i, j int) bool {
		a, b := t.Images[i], t.Images[j]
		da, db := a.Role == schemas.RoleDatasetImage, b.Role == schemas.RoleDatasetImage
		if da || db {
			return !da && db
		}
		return a.FileName < b.FileName
	})
	sort.SliceStable(t.Assets, func(i, j int) bool { return t.Assets[i].FileName < t.Assets[j].FileName })
}

// Diff returns the delta that turns have into now: the rows of now whose
// key have lacks or holds with other values, and now's run row, summary
// and gaps whole. Rows of have that now lacks are not expressed: a delta never
// removes.
func Diff(have, now *archive.Tables) *archive.Tables {
	return &archive.Tables{
		Info:        now.Info,
		Scalars:     diff(have.Scalars, now.Scalars, scalarKey),
		Params:      diff(have.Params, now.Params, paramKey),
		Summary:     append([]schemas.SummaryRow(nil), now.Summary...),
		Images:      diff(have.Images, now.Images, imageKey),
		Annotations: diff(have.Annotations, now.Annotations, annotationKey),
		Assets:      diff(have.Assets, now.Assets, assetKey),
		Gaps:        append([]schemas.GapRow(nil), now.Gaps...),
		Logs:        diff(have.Logs, now.Logs, logKey),
	}
}

// Changes reports whether applying d to have would change anything but
// the run's start and end times (which move with every file written, and
// are worth no link of their own).
func Changes(have, d *archive.Tables) bool {
	a, b := have.Info, d.Info
	a.StartedAt, a.EndedAt, b.StartedAt, b.EndedAt = nil, nil, nil, nil
	return d.Rows() > 0 || canon(&a) != canon(&b) || canon(have.Gaps) != canon(d.Gaps) || canon(have.Summary) != canon(d.Summary)
}

func upsert[T any](dst, src []T, key func(*T) string) []T {
	if len(src) == 0 {
		return dst
	}
	idx := make(map[string]int, len(dst))
	for i := range dst {
		idx[key(&dst[i])] = i
	}
	for i := range src {
		k := key(&src[i])
		if j, ok := idx[k]; ok {
			dst[j] = src[i]
			continue
		}
		idx[k] = len(dst)
		dst = append(dst, src[i])
	}
	return dst
}

func diff[T any](have, now []T, key func(*T) string) []T {
	idx := make(map[string]*T, len(have))
	for i := range have {
		idx[key(&have[i])] = &have[i]
	}
	var out []T
	for i := range now {
		if h, ok := idx[key(&now[i])]; ok && canon(h) == canon(&now[i]) {
			continue
		}
		out = append(out, now[i])
	}
	return out
}

// canon encodes a value so that two values encode alike exactly when they
// hold the same data: pointers are followed, floats compared bit for bit
// (NaN equals NaN), times by millisecond (the tables' precision).
func canon(v any) string {
	var b strings.Builder
	canonValue(&b, reflect.ValueOf(v))
	return b.String()
}

var timeType = reflect.TypeOf(time.Time{})

func canonValue(b *strings.Builder, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("~")
			return
		}
		b.WriteString("*")
		canonValue(b, v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			t := v.Interface().(time.Time)
			b.WriteString(strconv.FormatInt(t.UnixMilli(), 10))
			return
		}
		b.WriteString("{")
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				canonValue(b, v.Field(i))
				b.WriteString(",")
			}
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("[]")
			return
		}
		b.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			canonValue(b, v.Index(i))
			b.WriteString(",")
		}
		b.WriteString("]")
	case reflect.String:
		b.WriteString(strconv.Quote(v.String()))
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		b.WriteString(strconv.FormatUint(math.Float64bits(v.Float()), 16))
	default:
		fmt.Fprintf(b, "%v", v.Interface())
	}
}
