module github.com/mcp-extproc/mcp-extproc

go 1.26

require (
	github.com/tidwall/gjson v1.18.0
	go.yaml.in/yaml/v3 v3.0.4
)

require (
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
)
