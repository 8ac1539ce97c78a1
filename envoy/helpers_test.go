package envoy_test

import (
	"encoding/json"
	"fmt"
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func yamlToJSON(v any) ([]byte, error) { return json.Marshal(v) }
