//go:build tools

// Package tools pins actionlint's main package so that `go mod tidy` keeps its graph.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
