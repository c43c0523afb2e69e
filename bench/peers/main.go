package main

import (
	_ "github.com/bradleyjkemp/sigma-go"
	_ "github.com/markuskont/go-sigma-rule-engine"
	_ "github.com/vigil-sec/vigil/detect"
)

func main() {}
