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

// Tables are the rows of every table of one archive, or of a chain merged.
type Tables struct {
	Run         schemas.RunRow
	Scalars     []schemas.ScalarRow
	Params      []schemas.ParamRow
	Summary     []schemas.SummaryRow
	Images      []schemas.ImageRow
	Annotations []schemas.AnnotationRow
	Assets      []schemas.AssetRow
	Gaps        []schemas.GapRow
	Logs        []schemas.LogRow
}

// Load reads every table of an opened archive.
func Load(a *archive.Archive) (*Tables, error) {
	t, err := loadWhole(a)
	if err != nil {
		return nil, err
	}
	k, err := loadKeyed(a)
	if err != nil {
		return nil, err
	}
	k.Run, k.Summary, k.Gaps = t.Run, t.Summary, t.Gaps
	return k, nil
}

// loadWhole reads the tables a link holds whole: run, summary and gaps.
func loadWhole(a *archive.Archive) (*Tables, error) {
	runs, err := archive.ReadTable[schemas.RunRow](a, schemas.TableRun)
	if err != nil {
		return nil, err
	}
	if len(runs) != 1 {
		return nil, fmt.Errorf("%w: the run table has %d rows, want 1", archive.ErrBadManifest, len(runs))
	}
	t := &Tables{Run: runs[0]}
	if t.Summary, err = readOpt[schemas.SummaryRow](a, schemas.TableSummary); err != nil {
		return nil, err
	}
	if t.Gaps, err = readOpt[schemas.GapRow](a, schemas.TableGaps); err != nil {
		return nil, err
	}
	return t, nil
}

// loadKeyed reads the keyed tables (every table but run, summary and gaps).
func loadKeyed(a *archive.Archive) (*Tables, error) {
	t := &Tables{}
	var err error
	if t.Scalars, err = readOpt[schemas.ScalarRow](a, schemas.TableScalars); err != nil {
		return nil, err
	}
	if t.Params, err = readOpt[schemas.ParamRow](a, schemas.TableParams); err != nil {
		return nil, err
	}
	if t.Images, err = readOpt[schemas.ImageRow](a, schemas.TableImages); err != nil {
		return nil, err
	}
	if t.Annotations, err = readOpt[schemas.AnnotationRow](a, schemas.TableAnnotations); err != nil {
		return nil, err
	}
	if t.Assets, err = readOpt[schemas.AssetRow](a, schemas.TableAssets); err != nil {
		return nil, err
	}
	if t.Logs, err = readOpt[schemas.LogRow](a, schemas.TableLogs); err != nil {
		return nil, err
	}
	return t, nil
}

func readOpt[T any](a *archive.Archive, table string) ([]T, error) {
	if !a.HasTable(table) || a.Rows(table) == 0 {
		// Most links of a chain hold a few tables: opening an empty one
		// costs as much as reading a small one.
		return nil, nil
	}
	return archive.ReadTable[T](a, table)
}

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

// Apply merges a delta into t: keyed rows replace the row with the same key
// where it stands, new rows are appended, and the delta's run row and gaps
// replace t's, as do its summary and gaps. Images and assets of a run directory are then put back in
// the order a full capture writes them.
func (t *Tables) Apply(d *Tables) {
	t.Run = d.Run
	t.Scalars = upsert(t.Scalars, d.Scalars, scalarKey)
	t.Params = upsert(t.Params, d.Params, paramKey)
	t.Summary = append([]schemas.SummaryRow(nil), d.Summary...)
	t.Images = upsert(t.Images, d.Images, imageKey)
	t.Annotations = upsert(t.Annotations, d.Annotations, annotationKey)
	t.Assets = upsert(t.Assets, d.Assets, assetKey)
	t.Gaps = append([]schemas.GapRow(nil), d.Gaps...)
	t.Logs = upsert(t.Logs, d.Logs, logKey)
	t.normalize()
}

// Clone returns a copy of t whose slices can be changed independently.
func (t *Tables) Clone() *Tables {
	c := *t
	c.Scalars = append([]schemas.ScalarRow(nil), t.Scalars...)
	c.Params = append([]schemas.ParamRow(nil), t.Params...)
	c.Summary = append([]schemas.SummaryRow(nil), t.Summary...)
	c.Images = append([]schemas.ImageRow(nil), t.Images...)
	c.Annotations = append([]schemas.AnnotationRow(nil), t.Annotations...)
	c.Assets = append([]schemas.AssetRow(nil), t.Assets...)
	c.Gaps = append([]schemas.GapRow(nil), t.Gaps...)
	c.Logs = append([]schemas.LogRow(nil), t.Logs...)
	return &c
}

// normalize orders a run directory's images and assets as a capture lists
// them (by path, the dataset's images after the run's), so a merged chain
// replays exactly as a single archive of the finished run.
func (t *Tables) normalize() {
	switch t.Run.SourceKind {
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
func Diff(have, now *Tables) *Tables {
	return &Tables{
		Run:         now.Run,
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

// Rows counts the keyed rows of t (every table but run, summary and
// gaps).
func (t *Tables) Rows() int {
	return len(t.Scalars) + len(t.Params) + len(t.Images) + len(t.Annotations) + len(t.Assets) + len(t.Logs)
}

// Changes reports whether applying d to have would change anything but
// the run's start and end times (which move with every file written, and
// are worth no link of their own).
func Changes(have, d *Tables) bool {
	a, b := have.Run, d.Run
	a.StartedAt, a.EndedAt, b.StartedAt, b.EndedAt = nil, nil, nil, nil
	return d.Rows() > 0 || canon(&a) != canon(&b) || canon(have.Gaps) != canon(d.Gaps) || canon(have.Summary) != canon(d.Summary)
}

// Digests returns the blob digests the tables reference.
func (t *Tables) Digests() map[string]bool {
	out := map[string]bool{}
	for _, im := range t.Images {
		if im.Blob != "" {
			out[im.Blob] = true
		}
	}
	for _, a := range t.Assets {
		if a.Blob != "" {
			out[a.Blob] = true
		}
	}
	return out
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
