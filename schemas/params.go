package schemas

import "time"

// Parameter value types (ParamRow.Type and ParamRow.ItemType).
const (
	TypeNull   = "null"
	TypeBool   = "bool"
	TypeInt    = "int"
	TypeFloat  = "float"
	TypeString = "str"
	TypeList   = "list"
	TypeMixed  = "mixed" // a list whose items have different types
	// TypeJSON is a JSON object or a list of non-scalars from a tracker
	// session message, kept as its JSON text in Text (format 1.1).
	TypeJSON = "json"
)

// ParamRow is one run setting: a row of the "params" table.
type ParamRow struct {
	// Section is the file or group the setting came from: "args" for
	// args.yaml, "hyp" and "opt" for YOLOv5's hyp.yaml and opt.yaml.
	Section string `parquet:"section,dict" json:"section"`
	// Key is the setting's name; nested mappings are flattened with ".".
	Key string `parquet:"key" json:"key"`
	// Position is the setting's 0-based position in its source file.
	Position int32 `parquet:"position" json:"position"`
	// Type is one of the Type* constants.
	Type string `parquet:"type,dict" json:"type"`
	// Text is the scalar exactly as written in the source ("3.0", "true",
	// "null"); empty for lists.
	Text string `parquet:"text" json:"text"`
	// Exactly one of the typed values is set for scalars of that type.
	Bool   *bool    `parquet:"bool_value,optional" json:"bool_value,omitempty"`
	Int    *int64   `parquet:"int_value,optional" json:"int_value,omitempty"`
	Float  *float64 `parquet:"float_value,optional" json:"float_value,omitempty"`
	String *string  `parquet:"string_value,optional" json:"string_value,omitempty"`
	// ItemType is the type of the items of a list (or TypeMixed); Items
	// holds each item's source text.
	ItemType string   `parquet:"item_type,dict" json:"item_type"`
	Items    []string `parquet:"items,list" json:"items,omitempty"`
	// ItemTypes is the type of each list item (TypeNull, TypeBool,
	// TypeInt, TypeFloat or TypeString), for lists whose source says it (a
	// Comet session's JSON: [0] holds an int, ["0"] a string); empty when
	// ItemType applies to every item. Added in format 1.3.
	ItemTypes []string `parquet:"item_types,list" json:"item_types,omitempty"`
	// WallTime is when a tracker session logged the value (the last time,
	// when it logged the name more than once); null for settings files.
	// Added in format 1.3.
	WallTime *time.Time `parquet:"wall_time,optional,timestamp(millisecond)" json:"wall_time,omitempty"`
}

// FromFormat adjusts a row read from an archive of format 1.minor:
// parquet-go reads a list column the file lacks as [""], so the item
// types of an archive older than the column are cleared.
func (p *ParamRow) FromFormat(minor int) {
	if minor < ColumnsSince["params.item_types"] {
		p.ItemTypes = nil
	}
}
