package convert

import "context"

// readComet reads a Comet offline experiment zip (comet-api.md §5).
func (s *session) readComet(ctx context.Context) error {
	return nil
}
