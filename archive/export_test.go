package archive

// StreamOnly makes Open, Blobs and ReadHeader read every archive with the
// streaming decoder until the returned function is called.
func StreamOnly() (restore func()) {
	old := memReadMax
	memReadMax = 0
	return func() { memReadMax = old }
}
