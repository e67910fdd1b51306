//go:build tools

// Package tools pins the flagd release that scripts/flagd-lib.mjs builds.
package tools

import _ "github.com/open-feature/flagd/flagd"
