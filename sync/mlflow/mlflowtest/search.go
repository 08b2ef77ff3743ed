package mlflowtest

import (
	"regexp"
	"strings"
	"unicode"
)

// cond is one comparison of a runs/search filter on a tag.
type cond struct {
	key, op, value string
}

// filterError is the real server's refusal of a filter it cannot parse
// (search_utils.py: INVALID_PARAMETER_VALUE, 400).
func filterError(format string, args ...any) *apiError {
	return invalidParam(format, args...)
}

// unsupported refuses a filter the real server accepts but this fake does
// not understand: 400 (never matching everything), and a record in
// InvalidRequests so a client's test notices.
func unsupported(filter, what string) *apiError {
	return invalidParam("fake server does not support %s in filter %q (it understands tag comparisons joined by AND)", what, filter)
}

// Entity types of search_utils.py (_KEY_TYPES with their aliases).
var entityTypes = map[string]string{
	"metric": "metric", "metrics": "metric",
	"param": "parameter", "params": "parameter", "parameter": "parameter", "parameters": "parameter",
	"tag": "tag", "tags": "tag",
	"attribute": "attribute", "attributes": "attribute", "attr": "attribute", "run": "attribute",
	"dataset": "dataset", "datasets": "dataset",
}

// parseFilter parses the subset of SearchUtils.parse_search_filter a
// dedupe by tag needs: `tags.<key> <op> '<value>'` joined by AND, the key
// bare (tags.yoloarchive.run_id), in backquotes or double quotes, the
// operator =, !=, LIKE or ILIKE, the value in single or double quotes.
func parseFilter(f string) ([]cond, *apiError) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	toks, e := tokenize(f)
	if e != nil {
		return nil, e
	}
	var out []cond
	for i := 0; i < len(toks); {
		if len(toks)-i < 3 {
			return nil, filterError("Invalid filter '%s'. Could not be parsed.", f)
		}
		ident, op, val := toks[i], toks[i+1], toks[i+2]
		if ident.kind != tokIdent {
			return nil, filterError("Invalid filter '%s'. Could not be parsed.", f)
		}
		typ, key, ok := strings.Cut(ident.text, ".")
		if !ok {
			return nil, unsupported(f, "the attribute "+ident.text)
		}
		kind, known := entityTypes[strings.ToLower(typ)]
		if !known {
			return nil, filterError("Invalid entity type '%s'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']", typ)
		}
		if kind != "tag" {
			return nil, unsupported(f, kind+" comparisons")
		}
		key = unquoteKey(key)
		if op.kind != tokOp {
			return nil, filterError("Invalid filter '%s'. Could not be parsed.", f)
		}
		o := strings.ToUpper(op.text)
		if o != "=" && o != "!=" && o != "LIKE" && o != "ILIKE" {
			return nil, filterError("Invalid comparator '%s' not one of '['!=', '=', 'LIKE', 'ILIKE']'", op.text)
		}
		if val.kind != tokString {
			return nil, filterError("Parameter value is either not quoted or unidentified quote types used for string value %s. Use either single or double quotes.", val.text)
		}
		out = append(out, cond{key: key, op: o, value: val.text})
		i += 3
		if i == len(toks) {
			break
		}
		if toks[i].kind != tokIdent || !strings.EqualFold(toks[i].text, "AND") {
			return nil, filterError("Invalid clause(s) in filter string: '%s'", toks[i].text)
		}
		i++
		if i == len(toks) {
			return nil, filterError("Invalid filter '%s'. Could not be parsed.", f)
		}
	}
	return out, nil
}

func unquoteKey(k string) string {
	if len(k) >= 2 && (k[0] == '`' && k[len(k)-1] == '`' || k[0] == '"' && k[len(k)-1] == '"') {
		return k[1 : len(k)-1]
	}
	return k
}

type tokKind int

const (
	tokIdent tokKind = iota
	tokOp
	tokString
	tokOther
)

type token struct {
	kind tokKind
	text string
}

// tokenize splits a filter into identifiers (with a quoted key part kept
// whole: tags.`a b`), operators, quoted strings and anything else.
func tokenize(f string) ([]token, *apiError) {
	var out []token
	rs := []rune(f)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '\'' || r == '"':
			j := i + 1
			for j < len(rs) && rs[j] != r {
				j++
			}
			if j == len(rs) {
				return nil, filterError("Invalid filter '%s'. Could not be parsed.", f)
			}
			out = append(out, token{tokString, string(rs[i+1 : j])})
			i = j + 1
		case r == '=' || r == '!' || r == '<' || r == '>':
			j := i + 1
			if j < len(rs) && rs[j] == '=' {
				j++
			}
			out = append(out, token{tokOp, string(rs[i:j])})
			i = j
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_':
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_' || rs[j] == '.' || rs[j] == '-') {
				if rs[j] == '.' && j+1 < len(rs) && (rs[j+1] == '`' || rs[j+1] == '"') {
					q := rs[j+1]
					k := j + 2
					for k < len(rs) && rs[k] != q {
						k++
					}
					if k == len(rs) {
						return nil, filterError("Invalid filter '%s'. Could not be parsed.", f)
					}
					j = k + 1
					break
				}
				j++
			}
			word := string(rs[i:j])
			kind := tokIdent
			if strings.EqualFold(word, "LIKE") || strings.EqualFold(word, "ILIKE") {
				kind = tokOp
			}
			out = append(out, token{kind, word})
			i = j
		default:
			out = append(out, token{tokOther, string(r)})
			i++
		}
	}
	return out, nil
}

// matches reports whether a run's tags satisfy every condition. A run
// without the tag matches no comparison, as in search_utils.py.
func matches(r *run, conds []cond) bool {
	for _, c := range conds {
		v, ok := r.tags[c.key]
		if !ok {
			return false
		}
		switch c.op {
		case "=":
			ok = v == c.value
		case "!=":
			ok = v != c.value
		case "LIKE", "ILIKE":
			ok = like(v, c.value, c.op == "ILIKE")
		}
		if !ok {
			return false
		}
	}
	return true
}

// like is SQL LIKE: % any run, _ one character.
func like(v, pattern string, fold bool) bool {
	var b strings.Builder
	b.WriteString("^")
	if fold {
		b.WriteString("(?i)")
	}
	for _, r := range pattern {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(v)
}
