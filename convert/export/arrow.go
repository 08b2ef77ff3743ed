package export

import (
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// The Arrow path reads the temporary Parquet file back with parquet-go and
// fills Arrow builders itself. It replaced Arrow's own Parquet reader
// (parquet/pqarrow), which linked Arrow Flight, gRPC and arrow/compute
// into every command: milliseconds of package initialisation and a garbage
// collection at every start. The Arrow it gives is the one pqarrow gave
// (TestArrow_SameAsPqarrow): the same types, field names, nullability and
// field metadata, the same batches, value for value. Only null slots
// differ: pqarrow left stale values in them, the builders zeros.

// batchRows is the rows of one record batch (pqarrow's BatchSize was the
// same).
const batchRows = 64 << 10

// fieldIDMeta is the field metadata pqarrow gave every top-level field:
// the Parquet field id, which parquet-go leaves unset (-1).
var fieldIDMeta = arrow.NewMetadata([]string{"PARQUET:field_id"}, []string{"-1"})

// batches reads a Parquet file as Arrow record batches of up to batchRows
// rows.
type batches struct {
	schema *arrow.Schema
	fields []*column // one per top-level field, in order
	groups []parquet.RowGroup
	rows   parquet.Rows // of groups[0], nil before it is opened
	buf    []parquet.Row
	b      *array.RecordBuilder
}

// newBatches opens the Parquet bytes of src.
func newBatches(src source) (*batches, error) {
	size, err := src.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(src, size, parquet.SkipBloomFilters(true), parquet.ReadBufferSize(1<<20))
	if err != nil {
		return nil, err
	}
	r := &batches{groups: f.RowGroups(), buf: make([]parquet.Row, 256)}
	var fields []arrow.Field
	leaf := 0
	for _, n := range f.Schema().Fields() {
		c, t, err := newColumn(n, n.Name(), 0, 0, &leaf)
		if err != nil {
			return nil, err
		}
		r.fields = append(r.fields, c)
		fields = append(fields, arrow.Field{Name: n.Name(), Type: t, Nullable: n.Optional(), Metadata: fieldIDMeta})
	}
	r.schema = arrow.NewSchema(fields, nil)
	r.b = array.NewRecordBuilder(memory.DefaultAllocator, r.schema)
	for i, c := range r.fields {
		c.bind(r.b.Field(i))
	}
	return r, nil
}

// Schema is the Arrow schema of the batches.
func (r *batches) Schema() *arrow.Schema { return r.schema }

// Next returns the next record batch (the caller releases it), or io.EOF
// after the last.
func (r *batches) Next() (arrow.Record, error) {
	n := 0
	for n < batchRows {
		if r.rows == nil {
			if len(r.groups) == 0 {
				break
			}
			r.rows = r.groups[0].Rows()
			r.groups = r.groups[1:]
		}
		k, err := r.rows.ReadRows(r.buf[:min(len(r.buf), batchRows-n)])
		for _, row := range r.buf[:k] {
			if err := r.append(row); err != nil {
				return nil, err
			}
		}
		n += k
		if errors.Is(err, io.EOF) {
			r.rows.Close()
			r.rows = nil
		} else if err != nil {
			return nil, err
		}
	}
	if n == 0 {
		return nil, io.EOF
	}
	return r.b.NewRecord(), nil
}

// append adds one row to the builders.
func (r *batches) append(row parquet.Row) error {
	var err error
	i := 0
	row.Range(func(leaf int, values []parquet.Value) bool {
		if i >= len(r.fields) {
			err = fmt.Errorf("a row with more columns than the schema's %d", len(r.fields))
			return false
		}
		c := r.fields[i]
		if leaf != c.leaf {
			err = fmt.Errorf("Parquet column %d where %s's was expected", leaf, c.name)
			return false
		}
		err = c.add(values)
		i++
		return err == nil
	})
	if err == nil && i != len(r.fields) {
		err = fmt.Errorf("a row of %d columns where the schema has %d", i, len(r.fields))
	}
	return err
}

// Close releases the builders and the open row group.
func (r *batches) Close() {
	if r.rows != nil {
		r.rows.Close()
	}
	r.b.Release()
}

// column is one top-level field: a leaf, or lists of lists of a leaf,
// each level with the definition levels that tell a null or empty list
// from one with elements (Dremel's encoding, as Parquet stores it).
type column struct {
	name  string
	leaf  int     // the Parquet leaf column's index
	lists []level // outermost first
	def   int     // the leaf's maximum definition level
	app   func(array.Builder, parquet.Value)
	leafB array.Builder
}

// level is one list of a column.
type level struct {
	null     int // definition levels below it: a null list (-1 when required)
	nonEmpty int // definition levels from it on: a list with elements
	b        *array.ListBuilder
}

// newColumn maps the Parquet node n, reached with def definition levels
// (and rep repetition levels), to its Arrow type as pqarrow did, and
// counts the leaves.
func newColumn(n parquet.Node, name string, def, rep int, leaf *int) (*column, arrow.DataType, error) {
	if n.Optional() {
		def++
	}
	if n.Repeated() {
		return nil, nil, fmt.Errorf("column %s: a repeated field outside a list has no export", name)
	}
	if !n.Leaf() {
		isList := false
		if lt := n.Type().LogicalType(); lt != nil {
			_, isList = lt.Value.(*format.ListType)
		}
		if !isList || len(n.Fields()) != 1 || !n.Fields()[0].Repeated() || len(n.Fields()[0].Fields()) != 1 {
			return nil, nil, fmt.Errorf("column %s: only lists are exported, not groups", name)
		}
		lv := level{null: -1}
		if n.Optional() {
			lv.null = def
		}
		list := n.Fields()[0]
		def++ // the repeated group
		lv.nonEmpty = def
		c, t, err := newColumn(list.Fields()[0], name, def, rep+1, leaf)
		if err != nil {
			return nil, nil, err
		}
		c.lists = append([]level{lv}, c.lists...)
		return c, arrow.ListOfField(arrow.Field{Name: list.Name(), Type: t, Nullable: true}), nil
	}
	c := &column{name: name, leaf: *leaf, def: def}
	*leaf++
	var lt format.LogicalTypeValue
	if l := n.Type().LogicalType(); l != nil {
		lt = l.Value
	}
	intOf := func(bits int8) bool {
		it, ok := lt.(*format.IntType)
		return lt == nil || ok && it.BitWidth == bits && it.IsSigned
	}
	var t arrow.DataType
	switch k := n.Type().Kind(); {
	case k == parquet.Boolean && lt == nil:
		t = arrow.FixedWidthTypes.Boolean
		c.app = func(b array.Builder, v parquet.Value) { b.(*array.BooleanBuilder).Append(v.Boolean()) }
	case k == parquet.Int32 && intOf(32):
		t = arrow.PrimitiveTypes.Int32
		c.app = func(b array.Builder, v parquet.Value) { b.(*array.Int32Builder).Append(v.Int32()) }
	case k == parquet.Int64 && intOf(64):
		t = arrow.PrimitiveTypes.Int64
		c.app = func(b array.Builder, v parquet.Value) { b.(*array.Int64Builder).Append(v.Int64()) }
	case k == parquet.Int64:
		ts, ok := lt.(*format.TimestampType)
		if !ok {
			break
		}
		tt := &arrow.TimestampType{Unit: arrow.Nanosecond}
		if ts.IsAdjustedToUTC {
			tt.TimeZone = "UTC"
		}
		switch ts.Unit.Value.(type) {
		case *format.MilliSeconds:
			tt.Unit = arrow.Millisecond
		case *format.MicroSeconds:
			tt.Unit = arrow.Microsecond
		}
		t = tt
		c.app = func(b array.Builder, v parquet.Value) { b.(*array.TimestampBuilder).Append(arrow.Timestamp(v.Int64())) }
	case k == parquet.Float && lt == nil:
		t = arrow.PrimitiveTypes.Float32
		c.app = func(b array.Builder, v parquet.Value) { b.(*array.Float32Builder).Append(v.Float()) }
	case k == parquet.Double && lt == nil:
		t = arrow.PrimitiveTypes.Float64
		c.app = func(b array.Builder, v parquet.Value) { b.(*array.Float64Builder).Append(v.Double()) }
	case k == parquet.ByteArray:
		if _, ok := lt.(*format.StringType); ok {
			t = arrow.BinaryTypes.String
			c.app = func(b array.Builder, v parquet.Value) { b.(*array.StringBuilder).BinaryBuilder.Append(v.ByteArray()) }
		}
	}
	if t == nil {
		return nil, nil, fmt.Errorf("column %s: Parquet type %s has no export", name, n.Type())
	}
	return c, t, nil
}

// bind gives the column its builders: b is the top-level field's.
func (c *column) bind(b array.Builder) {
	for i := range c.lists {
		lb := b.(*array.ListBuilder)
		c.lists[i].b = lb
		b = lb.ValueBuilder()
	}
	c.leafB = b
}

// add appends one row's values of the column: one value for a leaf, and
// for lists one per element (or one that says the list is null or empty).
// A value's repetition level says which list it continues: the lists
// deeper than that begin with it.
func (c *column) add(values []parquet.Value) error {
	if len(values) == 0 {
		return fmt.Errorf("column %s: a row without a value", c.name)
	}
	for k, v := range values {
		rep, def := v.RepetitionLevel(), v.DefinitionLevel()
		if (k == 0) != (rep == 0) || rep > len(c.lists) {
			return fmt.Errorf("column %s: repetition level %d at value %d of a row", c.name, rep, k)
		}
		c.addValue(rep, def, v)
	}
	return nil
}

// addValue appends one value with repetition level rep and definition
// level def: the lists it begins, then its element, unless a list it
// begins is null or empty.
func (c *column) addValue(rep, def int, v parquet.Value) {
	for i := rep; i < len(c.lists); i++ {
		lv := &c.lists[i]
		switch {
		case def < lv.null:
			lv.b.AppendNull()
			return
		case def < lv.nonEmpty:
			lv.b.Append(true) // empty
			return
		}
		lv.b.Append(true)
	}
	if def < c.def || v.IsNull() {
		c.leafB.AppendNull()
		return
	}
	c.app(c.leafB, v)
}
