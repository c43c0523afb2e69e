module github.com/vigil-sec/vigil/bench/peers

go 1.26.0

require (
	github.com/bradleyjkemp/sigma-go v0.6.6
	github.com/markuskont/go-sigma-rule-engine v0.3.0
	github.com/vigil-sec/vigil v0.0.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/BobuSumisu/aho-corasick v1.0.3 // indirect
	github.com/PaesslerAG/gval v1.0.0 // indirect
	github.com/PaesslerAG/jsonpath v0.1.1 // indirect
	github.com/alecthomas/participle v0.7.1 // indirect
	github.com/corazawaf/libinjection-go v0.3.6 // indirect
	github.com/gobwas/glob v0.2.3 // indirect
	github.com/oklog/ulid/v2 v2.1.2 // indirect
	github.com/valyala/fastjson v1.6.10 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	gopkg.in/yaml.v2 v2.4.0 // indirect
)

replace github.com/vigil-sec/vigil => ../..
