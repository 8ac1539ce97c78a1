package toolpin

import (
	"math"
	"strconv"
	"testing"
)

func canon(t *testing.T, in string) string {
	t.Helper()
	out, err := appendCanonical(nil, in)
	if err != nil {
		t.Fatalf("%s: %v", in, err)
	}
	return string(out)
}

// The examples of RFC 8785, sections 3.2.2 and 3.2.3.
func TestRFC8785Examples(t *testing.T) {
	in := `{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`
	want := `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`
	if got := canon(t, in); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	sorting := `{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`
	want = `{"\r":"Carriage Return","1":"One","` + "\u0080" + `":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","` + "\ufb33" + `":"Hebrew Letter Dalet With Dagesh"}`
	if got := canon(t, sorting); got != want {
		t.Errorf("sorting:\ngot  %s\nwant %s", got, want)
	}
}

// The IEEE 754 → ECMAScript table of RFC 8785, appendix B.
func TestRFC8785Numbers(t *testing.T) {
	for bits, want := range map[uint64]string{
		0x0000000000000000: "0",
		0x8000000000000000: "0",
		0x0000000000000001: "5e-324",
		0x8000000000000001: "-5e-324",
		0x7fefffffffffffff: "1.7976931348623157e+308",
		0xffefffffffffffff: "-1.7976931348623157e+308",
		0x4340000000000000: "9007199254740992",
		0xc340000000000000: "-9007199254740992",
		0x4430000000000000: "295147905179352830000",
		0x44b52d02c7e14af5: "9.999999999999997e+22",
		0x44b52d02c7e14af6: "1e+23",
		0x44b52d02c7e14af7: "1.0000000000000001e+23",
		0x444b1ae4d6e2ef4e: "999999999999999700000",
		0x444b1ae4d6e2ef4f: "999999999999999900000",
		0x444b1ae4d6e2ef50: "1e+21",
		0x3eb0c6f7a0b5ed8c: "9.999999999999997e-7",
		0x3eb0c6f7a0b5ed8d: "0.000001",
		0x41b3de4355555553: "333333333.3333332",
		0x41b3de4355555554: "333333333.33333325",
		0x41b3de4355555555: "333333333.3333333",
		0x41b3de4355555556: "333333333.3333334",
		0x41b3de4355555557: "333333333.33333343",
		0xbecbf647612f3696: "-0.0000033333333333333333",
		0x43143ff3c1cb0959: "1424953923781206.2",
	} {
		raw := strconv.FormatFloat(math.Float64frombits(bits), 'g', -1, 64)
		got, err := appendNumber(nil, raw)
		if err != nil || string(got) != want {
			t.Errorf("%016x (%s): got %s %v, want %s", bits, raw, got, err, want)
		}
	}
	for _, bad := range []string{"1e400", "-1e999"} {
		if _, err := appendNumber(nil, bad); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestCanonicalDuplicateMember(t *testing.T) {
	if _, err := appendCanonical(nil, `{"a":1,"a":2}`); err == nil {
		t.Fatal("duplicate members must be an error")
	}
}

func TestCompareUTF16(t *testing.T) {
	keys := []string{"", "a", "ab", "b", "\u0080", "ö", "€", "\ue000", "\uffff", "😀", "\U0010FFFF", "a😀", "a\uffff"}
	for _, x := range keys {
		for _, y := range keys {
			want := compareUTF16Slow(x, y)
			got := compareUTF16(x, y)
			if (want < 0) != (got < 0) || (want == 0) != (got == 0) {
				t.Errorf("compare(%q, %q) = %d, slow %d", x, y, got, want)
			}
		}
	}
	if compareUTF16("😀", "\uffff") >= 0 {
		t.Error("a surrogate pair must sort before U+FFFF")
	}
}
