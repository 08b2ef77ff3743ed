package convert

import (
	"context"
	"fmt"
)

// readComet reads a Comet offline experiment zip (comet-api.md §5). Not
// built yet: such a zip is refused with an error saying so, rather than
// captured as an empty run.
func (s *session) readComet(ctx context.Context) error {
	return fmt.Errorf("%s: a Comet offline experiment zip: capturing these is not supported yet (upload it with `comet upload`, or capture the run directory)", s.r.Source)
}
