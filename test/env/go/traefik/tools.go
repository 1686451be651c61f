//go:build tools

// Package tools pins Traefik's command so that `go mod tidy` keeps its graph.
package tools

import (
	_ "github.com/traefik/traefik/v3/cmd/traefik"
)
