//go:build tools

// Package tools pins lego's command so that `go mod tidy` keeps its graph.
package tools

import _ "github.com/go-acme/lego/v5"
