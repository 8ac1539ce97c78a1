package policyinput

import (
	"bytes"
	"errors"
	"math"
	"strconv"

	"github.com/tidwall/gjson"
)

// DecodeJSON decodes a JSON value into plain Go values. Whole numbers that
// fit become int64 and others float64, so that a rule compares 1500 and
// 1500.5 with the number types it expects. It reads raw as ParseJSON does.
func DecodeJSON(raw []byte, object bool) (any, error) {
	r, err := ParseJSON(raw, object)
	if err != nil {
		return nil, err
	}
	return value(r), nil
}

// ParseJSON checks a payload's JSON value and returns it for reading in
// place. An empty value is an empty object when object is set (absent
// arguments), null otherwise; with object set, anything but an object is an
// error.
func ParseJSON(raw []byte, object bool) (gjson.Result, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		if object {
			raw = []byte("{}")
		} else {
			raw = []byte("null")
		}
	}
	if !gjson.ValidBytes(raw) {
		return gjson.Result{}, errors.New("not valid JSON")
	}
	r := gjson.ParseBytes(raw)
	if object && !r.IsObject() {
		return gjson.Result{}, errors.New("not a JSON object")
	}
	return r, nil
}

func value(r gjson.Result) any {
	switch r.Type {
	case gjson.String:
		return r.Str
	case gjson.True:
		return true
	case gjson.False:
		return false
	case gjson.Number:
		return number(r.Raw, r.Num)
	case gjson.JSON:
		if r.IsArray() {
			out := []any{}
			r.ForEach(func(_, v gjson.Result) bool {
				out = append(out, value(v))
				return true
			})
			return out
		}
		out := map[string]any{}
		r.ForEach(func(k, v gjson.Result) bool {
			out[k.Str] = value(v)
			return true
		})
		return out
	}
	return nil
}

// number keeps a whole number written without fraction or exponent as an
// int64 when it fits.
func number(raw string, f float64) any {
	if i, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return i
	}
	return f
}

// plain converts values decoded by encoding/json (float64 numbers,
// json.Number) into DecodeJSON's shapes.
func plain(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}
