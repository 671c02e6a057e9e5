package experiments

import "embed"

// Files holds every NAME.yaml of this folder.
//
//go:embed *.yaml
var Files embed.FS
