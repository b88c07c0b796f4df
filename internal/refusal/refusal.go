// Package refusal is the one error type of a request refused because of what was asked for: an unknown
// stack, key or flag, a malformed image, a promotion out of order, a file that is not what it should be.
// A refusal is found before anything changes. platformctl exits 2 on a refusal and 1 on any other
// error, so every package that can refuse a request says so with this type.
package refusal

import (
	"errors"
	"fmt"
)

// Error is a refused request.
type Error struct{ err error }

func (e *Error) Error() string { return e.err.Error() }
func (e *Error) Unwrap() error { return e.err }

// New refuses a request, with a message formatted as fmt.Errorf does.
func New(format string, args ...any) error { return &Error{fmt.Errorf(format, args...)} }

// Of marks err as a refusal; nil stays nil, and a refusal is returned as it is.
func Of(err error) error {
	if err == nil || Is(err) {
		return err
	}
	return &Error{err}
}

// Is reports whether err, or an error it wraps, is a refusal.
func Is(err error) bool {
	var r *Error
	return errors.As(err, &r)
}
