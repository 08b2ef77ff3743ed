package comet

// SetWindows sets the windows of the generation of epochs from a table
// out of epoch order (rows) and of the detailed metric read-back (points)
// for a test, and returns what restores them.
func SetWindows(rows, points int) (restore func()) {
	r, p := epochWindow, detailWindow
	epochWindow, detailWindow = rows, points
	return func() { epochWindow, detailWindow = r, p }
}

// SetSessionWindow sets the most points the generation of a session's
// points out of time order holds, for a test, and returns what restores
// it.
func SetSessionWindow(points int) (restore func()) {
	w := sessionWindow
	sessionWindow = points
	return func() { sessionWindow = w }
}
