module github.com/vigil-sec/vigil/bench/bruteforce

go 1.26.0
