package archive

import (
	"context"
	"io"
)

// ContextReader returns a reader of r that stops with the context's error
// once ctx is done, so that copying a large file can be interrupted.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

// ctxReader is a reader that stops with the context's error once the
// context is done, so that copying a large blob can be interrupted.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read implements io.Reader.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ctxOr returns the context's error when it is done (the real reason a
// read failed), else err.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
