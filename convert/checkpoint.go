package convert

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// maxPickleSize caps the data.pkl a checkpoint may have. It holds the
// model's structure, not its tensors (those are separate zip entries), so
// it is small even for large models.
const maxPickleSize = 64 << 20

// ErrBadCheckpoint is wrapped by the errors ReadCheckpoint returns.
var ErrBadCheckpoint = errors.New("convert: unreadable checkpoint")

// Checkpoint is what yoloarchive reads from an Ultralytics weights file
// (weights/best.pt, last.pt): the only place on disk that records the
// Ultralytics version and the settings the run really used.
type Checkpoint struct {
	// Version is the Ultralytics release that saved the file ("8.3.166").
	Version string
	// Date is when it was saved (ISO 8601, local time of the trainer).
	Date string
	// TrainArgs are the final settings (after AutoBatch and other runtime
	// changes), with Python values as Go values (nil, bool, int64,
	// float64, string; lists and dicts are left out).
	TrainArgs map[string]any
	// TrainMetrics are the metrics of the epoch the file was saved at.
	TrainMetrics map[string]float64
}

// ReadCheckpoint reads the top-level fields of a PyTorch zip checkpoint
// written by Ultralytics, without running any Python: data.pkl is checked
// opcode by opcode (checkPickle), then decoded with classes and tensors
// replaced by opaque placeholders.
func ReadCheckpoint(path string) (ckpt *Checkpoint, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCheckpointFile(f, path)
}

// readCheckpointFile is ReadCheckpoint for an open file; path names it.
func readCheckpointFile(f srcFile, path string) (ckpt *Checkpoint, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w: not a PyTorch zip checkpoint (%v)", path, ErrBadCheckpoint, err)
	}
	var pkl *zip.File
	for _, f := range zr.File {
		if f.Name == "data.pkl" || strings.HasSuffix(f.Name, "/data.pkl") {
			pkl = f
			break
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("%s: %w: no data.pkl", path, ErrBadCheckpoint)
	}
	if pkl.UncompressedSize64 > maxPickleSize {
		return nil, fmt.Errorf("%s: %w: data.pkl is %d bytes, over the %d byte limit", path, ErrBadCheckpoint, pkl.UncompressedSize64, maxPickleSize)
	}
	rc, err := pkl.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrBadCheckpoint, err)
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxPickleSize+1))
	rc.Close()
	if err != nil || len(data) > maxPickleSize {
		return nil, fmt.Errorf("%s: %w: reading data.pkl: %v", path, ErrBadCheckpoint, err)
	}
	ckpt, err = decodeCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ckpt, nil
}

// decodeCheckpoint decodes a checkpoint's data.pkl.
func decodeCheckpoint(data []byte) (ckpt *Checkpoint, err error) {
	if err := checkPickle(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	defer func() {
		if r := recover(); r != nil { // the decoder panics on some malformed input
			ckpt, err = nil, fmt.Errorf("%w: malformed pickle (%v)", ErrBadCheckpoint, r)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = func(module, name string) (interface{}, error) { return &opaque{name: module + "." + name}, nil }
	u.PersistentLoad = func(interface{}) (interface{}, error) { return &opaque{name: "storage"}, nil }
	v, err := u.Load()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	top, ok := asMap(v)
	if !ok {
		return nil, fmt.Errorf("%w: the top level is not a dict", ErrBadCheckpoint)
	}
	ckpt = &Checkpoint{TrainArgs: map[string]any{}, TrainMetrics: map[string]float64{}}
	ckpt.Version, _ = top["version"].(string)
	ckpt.Date, _ = top["date"].(string)
	if args, ok := asMap(top["train_args"]); ok {
		for k, v := range args {
			if s, ok := scalar(v); ok {
				ckpt.TrainArgs[k] = s
			}
		}
	}
	if m, ok := asMap(top["train_metrics"]); ok {
		for k, v := range m {
			if s, ok := scalar(v); ok {
				switch f := s.(type) {
				case float64:
					ckpt.TrainMetrics[k] = f
				case int64:
					ckpt.TrainMetrics[k] = float64(f)
				}
			}
		}
	}
	return ckpt, nil
}

// asMap turns a decoded Python dict with string keys into a Go map.
func asMap(v interface{}) (map[string]interface{}, bool) {
	out := map[string]interface{}{}
	switch d := v.(type) {
	case *types.Dict:
		for _, e := range *d {
			if k, ok := e.Key.(string); ok {
				out[k] = e.Value
			}
		}
	case *types.OrderedDict:
		for k, e := range d.Map {
			if ks, ok := k.(string); ok {
				out[ks] = e.Value
			}
		}
	default:
		return nil, false
	}
	return out, true
}

// scalar converts a decoded Python scalar to a Go value.
func scalar(v interface{}) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case bool, string, float64:
		return x, true
	case int:
		return int64(x), true
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), true
		}
	}
	return nil, false
}

// opaque stands for any Python class, function, object or tensor storage a
// checkpoint names: it can be called, instantiated, and given state, and
// keeps nothing.
type opaque struct{ name string }

// Call implements types.Callable.
func (o *opaque) Call(...interface{}) (interface{}, error) { return &opaque{name: o.name + "()"}, nil }

// PyNew implements types.PyNewable.
func (o *opaque) PyNew(...interface{}) (interface{}, error) { return &opaque{name: o.name + "()"}, nil }

// PySetState implements types.PyStateSettable.
func (o *opaque) PySetState(interface{}) error { return nil }

// PyDictSet implements types.PyDictSettable.
func (o *opaque) PyDictSet(_, _ interface{}) error { return nil }

// PySetAttr implements types.PyAttrSettable.
func (o *opaque) PySetAttr(string, interface{}) error { return nil }

// Set implements types.DictSetter, for dict subclasses.
func (o *opaque) Set(_, _ interface{}) {}

// Append implements types.ListAppender, for list subclasses.
func (o *opaque) Append(interface{}) {}
