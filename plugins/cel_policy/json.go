package celpolicy

import (
	"fmt"
	"reflect"
	"strconv"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/policyinput"
)

// jsonObject is a JSON object (tool arguments, a result) seen by CEL as a
// map, read in place: a rule that selects tool.args.amount looks that one
// member up instead of decoding the whole payload. Anything else a rule does
// with the map (iterate, compare, convert) works on its decoded form.
type jsonObject struct {
	raw gjson.Result
}

var _ traits.Mapper = jsonObject{}

// newJSON wraps a payload's JSON (policyinput.ParseJSON says what it
// accepts).
func newJSON(raw []byte, object bool) (ref.Val, error) {
	r, err := policyinput.ParseJSON(raw, object)
	if err != nil {
		return nil, err
	}
	return jsonValue(r), nil
}

// jsonValue converts one JSON value: scalars to CEL's, objects to a
// jsonObject, arrays to a list of their decoded elements.
func jsonValue(r gjson.Result) ref.Val {
	switch r.Type {
	case gjson.String:
		return types.String(r.Str)
	case gjson.True:
		return types.True
	case gjson.False:
		return types.False
	case gjson.Number:
		if i, err := strconv.ParseInt(r.Raw, 10, 64); err == nil {
			return types.Int(i)
		}
		return types.Double(r.Num)
	case gjson.JSON:
		if r.IsObject() {
			return jsonObject{r}
		}
		v, _ := policyinput.DecodeJSON([]byte(r.Raw), false)
		return types.DefaultTypeAdapter.NativeToValue(v)
	}
	return types.NullValue
}

func (o jsonObject) decoded() traits.Mapper {
	v, _ := policyinput.DecodeJSON([]byte(o.raw.Raw), true)
	return types.DefaultTypeAdapter.NativeToValue(v).(traits.Mapper)
}

// Find looks one member up by name.
func (o jsonObject) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(key), false
	}
	var found ref.Val
	o.raw.ForEach(func(name, value gjson.Result) bool {
		if name.Str == string(k) {
			found = jsonValue(value)
			return false
		}
		return true
	})
	return found, found != nil
}

func (o jsonObject) Get(key ref.Val) ref.Val {
	if v, ok := o.Find(key); ok {
		return v
	}
	if types.IsError(key) {
		return key
	}
	return types.NewErr("no such key: %v", key)
}

func (o jsonObject) Contains(key ref.Val) ref.Val {
	v, ok := o.Find(key)
	if !ok && v != nil && types.IsError(v) {
		return v
	}
	return types.Bool(ok)
}

func (o jsonObject) Size() ref.Val {
	n := 0
	o.raw.ForEach(func(_, _ gjson.Result) bool { n++; return true })
	return types.Int(n)
}

func (o jsonObject) Iterator() traits.Iterator { return o.decoded().Iterator() }

func (o jsonObject) Equal(other ref.Val) ref.Val { return o.decoded().Equal(other) }

func (o jsonObject) ConvertToNative(t reflect.Type) (any, error) {
	return o.decoded().ConvertToNative(t)
}

func (o jsonObject) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.MapType:
		return o
	case types.TypeType:
		return types.MapType
	}
	return types.NewErr("type conversion error from map to %s", t)
}

func (o jsonObject) Type() ref.Type { return types.MapType }

func (o jsonObject) Value() any { return o.decoded().Value() }

// String is for messages.
func (o jsonObject) String() string { return fmt.Sprintf("%.64s", o.raw.Raw) }
