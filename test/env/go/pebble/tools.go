//go:build tools

// Package tools pins Pebble's commands so that `go mod tidy` keeps their graph.
package tools

import (
	_ "github.com/letsencrypt/pebble/v2/cmd/pebble"
	_ "github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv"
)
