package comettest

// The clientlib batch endpoints `comet upload` sends an offline
// archive's metrics and parameters to (comet-api.md §5.9 steps 6 and 7):
// <root>/clientlib/batch/logger/experiment/metric and …/parameter, with the
// Authorization header. Their answer body is not documented; the fake
// answers {} and a client must not read it.

func (s *Server) batchMetrics(c *call) (any, *apiError) {
	e, err := s.writeExp(c.fields["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	for _, v := range c.fields["values"].([]any) {
		e.addMetric(v.(map[string]any))
	}
	return map[string]any{}, nil
}

func (s *Server) batchParameters(c *call) (any, *apiError) {
	e, err := s.writeExp(c.fields["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	for _, v := range c.fields["values"].([]any) {
		f := v.(map[string]any)
		e.setParam(f["parameterName"].(string), f)
	}
	return map[string]any{}, nil
}
