package mcpparse

import "testing"

func TestIsBinary(t *testing.T) {
	cases := []struct {
		name, result string
		want         map[string]bool // walked string path → binary
	}{
		{"tool image and audio", `{"content":[{"type":"image","data":"aGk=","mimeType":"image/png"},{"type":"audio","data":"aGk="},{"type":"text","text":"t","data":"x"}]}`,
			map[string]bool{"$.content[0].data": true, "$.content[1].data": true, "$.content[2].data": false, "$.content[2].text": false, "$.content[0].mimeType": false}},
		{"embedded resource", `{"content":[{"type":"resource","resource":{"uri":"a:b","blob":"aGk="}},{"type":"resource","resource":{"uri":"a:b","text":"t"}},{"type":"text","resource":{"blob":"x"}}]}`,
			map[string]bool{"$.content[0].resource.blob": true, "$.content[1].resource.text": false, "$.content[2].resource.blob": false}},
		{"structuredContent is never binary", `{"content":[],"structuredContent":{"blob":"s","data":"d","content":[{"type":"image","data":"x"}]}}`,
			map[string]bool{"$.structuredContent.blob": false, "$.structuredContent.data": false, "$.structuredContent.content[0].data": false}},
		{"resource contents", `{"contents":[{"uri":"a:b","blob":"aGk="},{"uri":"a:c","text":"t"},{"uri":"a:d","meta":{"blob":"x"}}]}`,
			map[string]bool{"$.contents[0].blob": true, "$.contents[1].text": false, "$.contents[2].meta.blob": false}},
		{"prompt messages", `{"messages":[{"role":"user","content":{"type":"image","data":"aGk="}},{"role":"user","content":{"type":"text","text":"x","data":"y"}},{"role":"user","content":{"type":"resource","resource":{"uri":"a:b","blob":"aGk="}}},{"role":"user","content":[{"type":"audio","data":"aGk="}]}]}`,
			map[string]bool{"$.messages[0].content.data": true, "$.messages[1].content.data": false, "$.messages[2].content.resource.blob": true, "$.messages[3].content[0].data": true}},
		{"type that is not a string", `{"content":[{"type":["image"],"data":"x"}]}`, map[string]bool{"$.content[0].data": false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seen := map[string]bool{}
			_, _, err := WalkStrings([]byte(c.result), WalkOptions{}, func(p Path, s string) (string, bool) {
				seen[p.String()] = IsBinary([]byte(c.result), p)
				return "", false
			})
			if err != nil {
				t.Fatal(err)
			}
			for path, want := range c.want {
				got, ok := seen[path]
				if !ok {
					t.Errorf("%s was not walked", path)
				} else if got != want {
					t.Errorf("IsBinary(%s) = %v, want %v", path, got, want)
				}
			}
		})
	}
}
