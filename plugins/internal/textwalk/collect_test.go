package textwalk

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCollect(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		raw  string
		opts CollectOptions
		want []string
	}{
		{"values joined", `{"a":"one","b":{"c":["two","  "]},"n":3}`, CollectOptions{ChunkBytes: 100, MaxBytes: 100}, []string{"one\ntwo"}},
		{"keys of arguments", `{"kill them":"now"}`, CollectOptions{Keys: true, ChunkBytes: 100, MaxBytes: 100}, []string{"kill them\nnow"}},
		{"result structure and binary skipped", `{"content":[{"type":"text","text":"hi"},{"type":"image","data":"QUJD","mimeType":"image/png"}]}`,
			CollectOptions{Value: Result, ChunkBytes: 100, MaxBytes: 100}, []string{"hi"}},
		{"arguments have no binary", `{"content":[{"type":"image","data":"QUJD"}]}`,
			CollectOptions{ChunkBytes: 100, MaxBytes: 100}, []string{"QUJD"}},
		{"chunks", `{"a":"aaaa","b":"bbbb","c":"cc"}`, CollectOptions{ChunkBytes: 9, MaxBytes: 100}, []string{"aaaa\nbbbb", "cc"}},
		{"split strings overlap", `{"a":"abcdefghij"}`, CollectOptions{ChunkBytes: 4, Overlap: 2, MaxBytes: 100}, []string{"abcd", "cdef", "efgh", "ghij"}},
		{"long string split on runes", `{"a":"ééééé"}`, CollectOptions{ChunkBytes: 4, MaxBytes: 100}, []string{"éé", "éé", "é"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Collect(ctx, nil, "k", []byte(tc.raw), tc.opts)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
			for _, c := range got {
				if len(c) > tc.opts.ChunkBytes {
					t.Fatalf("chunk %q over %d bytes", c, tc.opts.ChunkBytes)
				}
			}
		})
	}
	_, err := Collect(ctx, nil, "k", []byte(`{"a":"`+strings.Repeat("x", 101)+`"}`), CollectOptions{ChunkBytes: 10, MaxBytes: 100})
	if !errors.Is(err, ErrTooMuchText) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := Collect(ctx, nil, "k", []byte(`{"a":`), CollectOptions{ChunkBytes: 10, MaxBytes: 100}); err == nil {
		t.Fatal("malformed JSON accepted")
	}
}
