package main

import (
	"errors"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// cometReplayer builds the Comet destinations.
func cometReplayer(c *SyncCmd, tags []string, store *ysync.Store) (ysync.Replayer, *ysync.Store, error) {
	return nil, nil, errors.New("--to " + c.To + " is not built yet")
}
