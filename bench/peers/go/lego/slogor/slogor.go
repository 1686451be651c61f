// Package slogor is a stand-in for gitlab.com/greyxor/slogor with the four names lego's cmd/logger.go
// uses. It writes log/slog's text format: the same work per line, without colours.
package slogor

import (
	"io"
	"log/slog"
)

type options struct {
	level slog.Leveler
}

// OptionFn configures NewHandler.
type OptionFn func(*options)

// SetLevel sets the minimum level logged.
func SetLevel(level slog.Leveler) OptionFn { return func(o *options) { o.level = level } }

// SetTimeFormat is accepted and ignored: the text handler writes RFC 3339 times.
func SetTimeFormat(string) OptionFn { return func(*options) {} }

// DisableColor is accepted and ignored: the text handler has no colours.
func DisableColor() OptionFn { return func(*options) {} }

// NewHandler returns log/slog's text handler writing to w.
func NewHandler(w io.Writer, fns ...OptionFn) slog.Handler {
	o := &options{}
	for _, fn := range fns {
		fn(o)
	}
	return slog.NewTextHandler(w, &slog.HandlerOptions{Level: o.level})
}
