package comettest

import "strings"

// writeOutput stores console lines (POST write/experiment/output, the
// lines valid against their schema): every line is kept, in arrival
// order.
func (s *Server) writeOutput(c *call) (any, *apiError) {
	e, err := s.writeExp(c.fields["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	ctx := optStr(c.fields, "runContext")
	for _, v := range c.fields["outputLines"].([]any) {
		f := v.(map[string]any)
		stderr, _ := f["stderr"].(bool)
		var offset int64
		if o := optInt(f, "offset"); o != nil {
			offset = *o
		}
		ts := nowMillis()
		if t := optInt(f, "localTimestamp"); t != nil {
			ts = *t
		}
		e.Output = append(e.Output, OutputLine{Output: f["output"].(string), Stderr: stderr, Offset: offset, Timestamp: ts, Context: ctx})
	}
	return map[string]any{}, nil
}

// readOutput answers GET experiment/output: {"output": the lines' texts
// concatenated in arrival order}.
func (s *Server) readOutput(c *call) (any, *apiError) {
	e, err := s.readExp(c)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, l := range e.Output {
		b.WriteString(l.Output)
	}
	return map[string]any{"output": b.String()}, nil
}
