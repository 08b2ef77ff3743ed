package convert

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// maxYAMLSize caps the YAML files ParseParams reads.
const maxYAMLSize = 16 << 20

// ErrBadParams is wrapped by the errors ParseParams returns.
var ErrBadParams = errors.New("convert: bad settings file")

// Params is a parsed settings file (args.yaml, hyp.yaml, opt.yaml): its rows
// and a lookup by key.
type Params struct {
	Rows  []schemas.ParamRow
	byKey map[string]int
}

// Get returns the row for key.
func (p *Params) Get(key string) (schemas.ParamRow, bool) {
	if p == nil {
		return schemas.ParamRow{}, false
	}
	i, ok := p.byKey[key]
	if !ok {
		return schemas.ParamRow{}, false
	}
	return p.Rows[i], true
}

// String returns the value of key as a string: the string value, or the
// text of any other scalar; "" for null, lists and missing keys.
func (p *Params) String(key string) string {
	r, ok := p.Get(key)
	if !ok || r.Type == schemas.TypeNull || r.Type == schemas.TypeList || r.Type == schemas.TypeMixed {
		return ""
	}
	if r.String != nil {
		return *r.String
	}
	return r.Text
}

// Int returns the integer value of key.
func (p *Params) Int(key string) (int64, bool) {
	r, ok := p.Get(key)
	if !ok {
		return 0, false
	}
	switch {
	case r.Int != nil:
		return *r.Int, true
	case r.Float != nil && *r.Float == math.Trunc(*r.Float) && math.Abs(*r.Float) < 1<<53:
		return int64(*r.Float), true
	}
	return 0, false
}

// Float returns the numeric value of key.
func (p *Params) Float(key string) (float64, bool) {
	r, ok := p.Get(key)
	if !ok {
		return 0, false
	}
	switch {
	case r.Float != nil:
		return *r.Float, true
	case r.Int != nil:
		return float64(*r.Int), true
	}
	return 0, false
}

// Bool returns the boolean value of key.
func (p *Params) Bool(key string) (v, ok bool) {
	r, found := p.Get(key)
	if !found || r.Bool == nil {
		return false, false
	}
	return *r.Bool, true
}

// Keys returns the top-level keys in file order.
func (p *Params) Keys() []string {
	var keys []string
	for _, r := range p.Rows {
		if !strings.Contains(r.Key, ".") {
			keys = append(keys, r.Key)
		}
	}
	return keys
}

// ParseParams parses a YAML mapping of settings into rows of the given
// section, keeping file order, each scalar's text and its YAML type (so
// that 3.0 stays a float and 3 an int). Nested mappings are flattened with
// ".". name is used in error messages.
func ParseParams(r io.Reader, name, section string) (*Params, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxYAMLSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxYAMLSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", name, ErrBadParams, maxYAMLSize)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrBadParams, oneLine(err.Error()))
	}
	p := &Params{byKey: map[string]int{}}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: %w: the file is empty", name, ErrBadParams)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: %w: not a mapping of settings", name, root.Line, ErrBadParams)
	}
	if err := p.addMapping(root, "", section, name); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Params) addMapping(m *yaml.Node, prefix, section, name string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return fmt.Errorf("%s:%d: %w: a setting without a name", name, k.Line, ErrBadParams)
		}
		key := prefix + k.Value
		if _, dup := p.byKey[key]; dup {
			return fmt.Errorf("%s:%d: %w: duplicate key %q", name, k.Line, ErrBadParams, key)
		}
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		row := schemas.ParamRow{Section: section, Key: key, Position: int32(len(p.Rows))}
		switch v.Kind {
		case yaml.MappingNode:
			if err := p.addMapping(v, key+".", section, name); err != nil {
				return err
			}
			continue
		case yaml.SequenceNode:
			row.Type = schemas.TypeList
			for _, item := range v.Content {
				t := scalarType(item)
				if row.ItemType == "" {
					row.ItemType = t
				} else if row.ItemType != t {
					row.ItemType = schemas.TypeMixed
				}
				row.Items = append(row.Items, item.Value)
			}
		case yaml.ScalarNode:
			setScalar(&row, v)
		default:
			return fmt.Errorf("%s:%d: %w: unsupported value for %q", name, v.Line, ErrBadParams, key)
		}
		p.byKey[key] = len(p.Rows)
		p.Rows = append(p.Rows, row)
	}
	return nil
}

// scalarType returns the schemas type of a YAML node.
func scalarType(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return schemas.TypeMixed
	}
	switch n.ShortTag() {
	case "!!null":
		return schemas.TypeNull
	case "!!bool":
		return schemas.TypeBool
	case "!!int":
		return schemas.TypeInt
	case "!!float":
		return schemas.TypeFloat
	}
	return schemas.TypeString
}

// setScalar fills a row's type, text and typed value from a scalar node.
func setScalar(row *schemas.ParamRow, n *yaml.Node) {
	row.Text = n.Value
	row.Type = scalarType(n)
	switch row.Type {
	case schemas.TypeBool:
		var b bool
		if n.Decode(&b) == nil {
			row.Bool = &b
			return
		}
	case schemas.TypeInt:
		var i int64
		if n.Decode(&i) == nil {
			row.Int = &i
			return
		}
		// An integer too large for int64 is kept as a float.
		row.Type = schemas.TypeFloat
		fallthrough
	case schemas.TypeFloat:
		if f, ok := yamlFloat(n.Value); ok {
			row.Float = &f
			return
		}
	case schemas.TypeNull:
		return
	}
	row.Type = schemas.TypeString
	s := n.Value
	row.String = &s
}

// yamlFloat parses a YAML float, including .inf and .nan.
func yamlFloat(s string) (float64, bool) {
	switch strings.ToLower(s) {
	case ".inf", "+.inf":
		return math.Inf(1), true
	case "-.inf":
		return math.Inf(-1), true
	case ".nan":
		return math.NaN(), true
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	return f, err == nil
}

// oneLine folds a multi-line message into one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
