//go:build !unix

package plugintest

import "time"

func processCPU() time.Duration { return 0 }
